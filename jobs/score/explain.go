package score

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parcours/parcours/internal/warehouse"
	sqlfs "github.com/parcours/parcours/sql"
)

// Explanation is what scoring last said about one customer: the churn
// score with its reasons, and the CLV figures (nil when not scored).
type Explanation struct {
	CustomerKey string         `json:"customer_key"`
	Churn       map[string]any `json:"churn,omitempty"`
	CLV         map[string]any `json:"clv,omitempty"`
}

// ErrNotScored is a customer with no score of either model.
var ErrNotScored = errors.New("no scores (not a consented purchaser, or not scored yet)")

// Explain reads a customer's latest scores (`parcours model explain`).
func Explain(ctx context.Context, wh *warehouse.Warehouse, customerKey string) (*Explanation, error) {
	latest := func(file string) (map[string]any, error) {
		q, err := wh.SQL.Section(file, "latest")
		if err != nil {
			return nil, err
		}
		rows, err := warehouse.QueryMaps(ctx, wh.DB, q, sql.Named("customer_key", customerKey))
		if err != nil || len(rows) == 0 {
			return nil, err
		}
		return rows[0], nil
	}
	e := &Explanation{CustomerKey: customerKey}
	var err error
	if e.Churn, err = latest("analytics.churn_scores.sql"); err != nil {
		return nil, err
	}
	if e.CLV, err = latest("analytics.clv_scores.sql"); err != nil {
		return nil, err
	}
	if e.Churn == nil && e.CLV == nil {
		return nil, fmt.Errorf("customer %s: %w", customerKey, ErrNotScored)
	}
	if e.Churn != nil {
		var rs any
		_ = json.Unmarshal([]byte(fmt.Sprint(e.Churn["reasons"])), &rs)
		e.Churn["reasons"] = rs
	}
	return e, nil
}

// IsCustomer reports whether key is a customer key of the warehouse.
func IsCustomer(ctx context.Context, wh *warehouse.Warehouse, key string) (bool, error) {
	var ok bool
	if err := wh.QueryRowSection(ctx, wh.DB, sqlfs.Ref{File: "identity.customers.sql", Section: "exists"}, sql.Named("customer_key", key)).Scan(&ok); err != nil {
		return false, fmt.Errorf("identity.customers.sql exists: %w", err)
	}
	return ok, nil
}
