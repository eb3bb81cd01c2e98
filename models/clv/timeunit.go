package clv

import "fmt"

// TimeUnit is the unit in which a Customer's TX and T, the fitted α and the
// horizons handed to the parameter methods (ExpectedPurchases and the like)
// are measured.
type TimeUnit string

// Supported time units.
const (
	Days  TimeUnit = "days"
	Weeks TimeUnit = "weeks"
)

// LengthInDays returns how many days one unit lasts.
func (u TimeUnit) LengthInDays() (float64, error) {
	switch u {
	case Days:
		return 1, nil
	case Weeks:
		return 7, nil
	default:
		return 0, fmt.Errorf("unknown time unit %q (want %q or %q)", string(u), Days, Weeks)
	}
}
