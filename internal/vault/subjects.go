package vault

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	sqlfs "github.com/parcours/parcours/sql"
)

// Fields are the PII fields the vault holds, in vault.pii column order.
func Fields() []string {
	return []string{"customer_id", "email", "phone", "first_name", "last_name", "birth_date", "postcode", "city"}
}

// Record is one subject's decrypted vault entry.
type Record struct {
	SubjectToken string            `json:"-"`
	CustomerKey  string            `json:"customer_key"`
	UpdatedAt    string            `json:"crm_version"`
	Values       map[string]string `json:"values"`
	// Shredded is true when the entry exists but its data key is gone.
	Shredded bool `json:"shredded,omitempty"`
}

// Sections gives the SQL of a file's section (a *sql.Set of the sql package): the
// statement reading the vault is in sql/vault.pii.sql.
type Sections interface {
	Section(file, section string) (string, error)
}

// ReadSubjects decrypts the vault entries of the given customer keys.
func ReadSubjects(ctx context.Context, db *sql.DB, sqls Sections, ks *Keystore, customerKeys []string) ([]Record, error) {
	return ReadSubjectsIn(ctx, db, sqls, "vault.pii", ks, customerKeys)
}

// ReadSubjectsIn is ReadSubjects from another vault table (an attached
// shard's, "shard0.vault.pii"), with that vault's keystore.
func ReadSubjectsIn(ctx context.Context, db *sql.DB, sqls Sections, table string, ks *Keystore, customerKeys []string) ([]Record, error) {
	q, err := sqls.Section("vault.pii.sql", "read_subjects")
	if err != nil {
		return nil, err
	}
	fields := make([]string, len(Fields()))
	for i, f := range Fields() {
		fields[i] = `"` + f + `"`
	}
	q = strings.NewReplacer("{{fields}}", strings.Join(fields, ", "), "{{table}}", sqlfs.QuoteIdent(table)).Replace(q)
	rows, err := db.QueryContext(ctx, q, sql.Named("customer_keys", customerKeys))
	if err != nil {
		return nil, fmt.Errorf("read vault: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		blobs := make([][]byte, len(Fields()))
		dest := []any{&r.SubjectToken, &r.CustomerKey, &r.UpdatedAt}
		for i := range blobs {
			dest = append(dest, &blobs[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		subj, err := ParseSubject(r.SubjectToken)
		if err != nil {
			return nil, err
		}
		dk, ok, err := ks.DataKey(subj, false)
		if err != nil {
			return nil, err
		}
		r.Values = map[string]string{}
		if !ok {
			r.Shredded = true
			out = append(out, r)
			continue
		}
		for i, f := range Fields() {
			if blobs[i] == nil {
				continue
			}
			v, err := Open(dk, subj, f, blobs[i])
			if err != nil {
				return nil, err
			}
			r.Values[f] = v
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
