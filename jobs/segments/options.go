package segments

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/parcours/parcours/internal/config"
)

// Options tune the segments job: the configuration's segments section,
// declared (with its defaults) in internal/config. Thresholds other jobs
// share (the churn probability where high risk starts, k, the seed) are
// in Params.
type Options = config.Segments

// DefaultOptions returns the options used when nothing else is set.
func DefaultOptions() Options { return config.Default().Segments }

// CheckConfig implements orchestration.ConfigChecker.
func (j *Job) CheckConfig(cfg *config.Config) error { return validate(cfg.Segments) }

// validate checks the options before anything runs; errors name the keys.
func validate(o Options) error {
	var errs []string
	if !(o.ValueQuantile > 0 && o.ValueQuantile < 1) {
		errs = append(errs, fmt.Sprintf("segments.value_quantile: %v is not strictly between 0 and 1", o.ValueQuantile))
	}
	if !(o.MinPurchases30d > 0) {
		errs = append(errs, fmt.Sprintf("segments.min_purchases_30d: %v must be above 0", o.MinPurchases30d))
	}
	if o.KMin < 2 || o.KMax < o.KMin {
		errs = append(errs, fmt.Sprintf("segments.k_min, k_max: [%d, %d]: want 2 <= k_min <= k_max (the silhouette needs two clusters)", o.KMin, o.KMax))
	}
	if o.FitSample <= o.KMax {
		errs = append(errs, fmt.Sprintf("segments.fit_sample: %d must exceed k_max %d", o.FitSample, o.KMax))
	}
	if o.SilhouetteSample < 2 {
		errs = append(errs, fmt.Sprintf("segments.silhouette_sample: %d must be at least 2", o.SilhouetteSample))
	}
	if !(o.MatchMaxDistance >= 0) || math.IsInf(o.MatchMaxDistance, 0) {
		errs = append(errs, fmt.Sprintf("segments.match_max_distance: %v must be a finite distance >= 0 (0: no limit)", o.MatchMaxDistance))
	}
	if o.ChooseKEveryDays < 1 {
		errs = append(errs, fmt.Sprintf("segments.choose_k_every_days: %d must be at least 1 (1: every night)", o.ChooseKEveryDays))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
