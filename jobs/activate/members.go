package activate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/parcours/parcours/internal/vault"
	"github.com/parcours/parcours/internal/warehouse"
	"github.com/parcours/parcours/jobs/activate/delivery"
)

// memberFields is what the vault and the consent gate say about one
// customer, before a destination picks the fields it may receive.
type memberFields struct {
	values            map[string]string
	adUserData        bool // consent marketing_ads valid at the end of the date
	adPersonalization bool // consent personalization valid then
}

// member builds the connector's view of a customer with only the fields
// the destination receives. A customer without a vault entry (or whose
// keys were shredded) has none: only destinations that know members by
// their key can carry them.
func (f memberFields) member(key string, want []string, country string) delivery.Member {
	m := delivery.Member{Key: key, CountryCode: country, AdUserData: f.adUserData, AdPersonalization: f.adPersonalization}
	for _, w := range want {
		v := f.values[w]
		switch w {
		case "email":
			m.Email = v
		case "phone":
			m.Phone = v
		case "first_name":
			m.FirstName = v
		case "last_name":
			m.LastName = v
		case "postcode":
			m.PostalCode = v
		}
	}
	return m
}

// fingerprint is the SHA-256 of everything sent for a member: a change
// means an update is due.
func fingerprint(m delivery.Member) string {
	h := sha256.New()
	for _, v := range []string{m.Key, m.Email, m.Phone, m.FirstName, m.LastName, m.CountryCode, m.PostalCode,
		fmt.Sprint(m.AdUserData), fmt.Sprint(m.AdPersonalization)} {
		h.Write([]byte(v))
		h.Write([]byte{0x1f})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readFields decrypts the vault entries of keys and reads the ad consent
// signals valid at now (for the members of the audience temp table).
func readFields(ctx context.Context, wh *warehouse.Warehouse, conn *sql.Conn, keys []string, now time.Time) (map[string]memberFields, error) {
	out := make(map[string]memberFields, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	for _, k := range keys {
		out[k] = memberFields{values: map[string]string{}}
	}
	q, err := wh.SQL.Section(planSQL, "ad_consents")
	if err != nil {
		return nil, err
	}
	rs, err := warehouse.Query(ctx, conn, q, sql.Named("now", now))
	if err != nil {
		return nil, fmt.Errorf("ad consent signals: %w", err)
	}
	for rs.Next() {
		var k, p string
		if err := rs.Scan(&k, &p); err != nil {
			rs.Close()
			return nil, err
		}
		f := out[k]
		if p == "marketing_ads" {
			f.adUserData = true
		} else {
			f.adPersonalization = true
		}
		out[k] = f
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if q, err = wh.SQL.Section(planSQL, "vault_entries"); err != nil {
		return nil, err
	}
	var n int
	if err := conn.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	if n == 0 {
		return out, nil
	}
	if wh.Secrets == nil {
		return nil, fmt.Errorf("vault: no master key to read members' contact fields")
	}
	ks, err := vault.OpenKeystore(wh.KeystorePath(), wh.Secrets.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("vault: %w", err)
	}
	recs, err := vault.ReadSubjects(ctx, wh.DB, wh.SQL, ks, keys)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		f, ok := out[r.CustomerKey]
		if !ok || r.Shredded {
			continue
		}
		for k, v := range r.Values {
			if v = strings.TrimSpace(v); v != "" && f.values[k] == "" {
				f.values[k] = v
			}
		}
	}
	return out, nil
}
