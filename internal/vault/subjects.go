package vault

import (
	"context"
	"database/sql"
	"fmt"
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

// ReadSubjects decrypts the vault entries of the given customer keys.
func ReadSubjects(ctx context.Context, db *sql.DB, ks *Keystore, customerKeys []string) ([]Record, error) {
	return ReadSubjectsIn(ctx, db, "vault.pii", ks, customerKeys)
}

// ReadSubjectsIn is ReadSubjects from another vault table (an attached
// shard's, "shard0.vault.pii"), with that vault's keystore.
func ReadSubjectsIn(ctx context.Context, db *sql.DB, table string, ks *Keystore, customerKeys []string) ([]Record, error) {
	cols := "subject_token, coalesce(customer_key, ''), CAST(updated_at AS VARCHAR)"
	for _, f := range Fields() {
		cols += ", " + f
	}
	rows, err := db.QueryContext(ctx, "SELECT "+cols+" FROM "+table+" WHERE customer_key IN (SELECT unnest(CAST(? AS VARCHAR[]))) ORDER BY subject_token", customerKeys)
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
