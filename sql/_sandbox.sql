-- The lock-down of the connection that runs user SQL (`parcours query`).
-- Run in this order before the user's statement: afterwards the statement
-- can read the warehouse, and files only under the allowed folders (the
-- project's own anonymous exports); it can write no file, read no other
-- one (key file, keystore, /etc), attach no database, load no extension,
-- and change no setting, this one included. The warehouse package reads
-- the settings back and refuses to run user SQL if they did not take.
-- {{allowed_directories}} is a list literal of absolute folder paths.

-- name: lock
SET allowed_directories = {{allowed_directories}};
SET enable_external_access = false;
SET lock_configuration = true;

-- name: verify
SELECT current_setting('enable_external_access') = false AND current_setting('lock_configuration') = true;
