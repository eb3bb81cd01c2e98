package segments

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Options tune the segments job. Thresholds that other jobs share (the
// churn probability where high risk starts, k, the seed) come from the
// configuration instead; see Params.
type Options struct {
	// ValueQuantile is the quantile of the day's CLV from which a customer
	// is high value (0.5: at or above the median).
	ValueQuantile float64
	// MinPurchases30d is the expected number of purchases in the next 30
	// days from which a customer is likely to buy.
	MinPurchases30d float64
	// KMin and KMax bound the number of micro-segments; the silhouette
	// chooses within them.
	KMin, KMax int
	// FitSample is the most customers k-means is fitted on (and k chosen
	// on), drawn uniformly with the seed; every customer is then assigned
	// to the nearest centre. Centres from 50,000 points are as good as
	// from millions, at a fraction of the cost.
	FitSample int
	// SilhouetteSample is the most points the silhouette of each k is
	// computed on (exactly, over all pairs of the sample).
	SilhouetteSample int
	// MatchMaxDistance is the farthest (Euclidean, in standard deviations
	// of the standardised features) a cluster's centre may lie from the
	// previous computation's centre of an id to keep that id; farther, it
	// is a new cluster with a fresh id. 0: no limit.
	MatchMaxDistance float64
}

// DefaultOptions returns the options used when nothing else is set.
func DefaultOptions() Options {
	return Options{ValueQuantile: 0.5, MinPurchases30d: 0.5, KMin: 2, KMax: 8, FitSample: 50_000, SilhouetteSample: 5_000,
		MatchMaxDistance: 2}
}

// Validate checks the options before anything runs.
func (o Options) Validate() error {
	var errs []string
	if !(o.ValueQuantile > 0 && o.ValueQuantile < 1) {
		errs = append(errs, fmt.Sprintf("value_quantile: %v is not strictly between 0 and 1", o.ValueQuantile))
	}
	if !(o.MinPurchases30d > 0) {
		errs = append(errs, fmt.Sprintf("min_purchases_30d: %v must be above 0", o.MinPurchases30d))
	}
	if o.KMin < 2 || o.KMax < o.KMin {
		errs = append(errs, fmt.Sprintf("k range [%d, %d]: want 2 <= kmin <= kmax (the silhouette needs two clusters)", o.KMin, o.KMax))
	}
	if o.FitSample <= o.KMax {
		errs = append(errs, fmt.Sprintf("fit_sample: %d must exceed kmax %d", o.FitSample, o.KMax))
	}
	if o.SilhouetteSample < 2 {
		errs = append(errs, fmt.Sprintf("silhouette_sample: %d must be at least 2", o.SilhouetteSample))
	}
	if !(o.MatchMaxDistance >= 0) || math.IsInf(o.MatchMaxDistance, 0) {
		errs = append(errs, fmt.Sprintf("match_max_distance: %v must be a finite distance >= 0 (0: no limit)", o.MatchMaxDistance))
	}
	if len(errs) > 0 {
		return errors.New("segments options: " + strings.Join(errs, "; "))
	}
	return nil
}
