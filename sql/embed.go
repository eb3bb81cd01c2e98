// Package sql holds the SQL transforms of parcours, one file per table they
// build, named after it (analytics.orders.sql builds analytics.orders), and
// one per kind of source (kind.orders.sql: the landing table's columns, how
// checked rows land, the identifiers they carry). A file may hold several
// named statements, each introduced by a line "-- name: <section>" (for
// example "create" for the DDL and "load" for the transform). Parse reads
// them into a Set, from the embedded copies (FS) or a folder (sql_dir).
package sql

import (
	"embed"
	"io/fs"
)

//go:embed *.sql
var files embed.FS

// FS returns the embedded SQL files.
func FS() fs.FS { return files }
