-- kind.ids (view): every identifier a landed fact carries, one row each,
-- unnested from kind.id_lists (one row per fact, the `ids` sections of
-- the kind files). Identity's identifiers and the split's fact keys read
-- it; links read kind.id_lists, since a link joins identifiers of one row.
-- seen: when the identifier was seen (a customer id: when its customer
-- was created, when the record says so); linked: when the row showed its
-- identifiers together.
-- grain: one row per (source, fact, identifier)

-- name: view
CREATE OR REPLACE VIEW kind.ids AS
SELECT source, kind, fact,
       CASE WHEN i."type" = 'customer_id' THEN coalesce(created, linked) ELSE linked END AS seen,
       linked, evidence, i."type" AS id_type, i."value" AS value
FROM kind.id_lists, unnest(ids) AS u(i);
