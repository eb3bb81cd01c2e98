package churn

import "fmt"

// Dataset is a feature matrix with its labels and customer ids.
type Dataset struct {
	// X holds the features, NaN for missing values.
	X *Matrix
	// Y holds the labels, 1 = churned, 0 = stayed; nil for unlabelled
	// data being scored.
	Y []float64
	// IDs holds one customer id per row, or is nil.
	IDs []string
	// Encoding is how a user's table was turned into X (set by
	// PrepareTable); nil when X came as a matrix from the warehouse.
	Encoding *Encoding
}

// NewDataset checks that x, y and ids agree and that labels are 0 or 1.
func NewDataset(x *Matrix, y []float64, ids []string) (*Dataset, error) {
	d := &Dataset{X: x, Y: y, IDs: ids}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// Validate checks the matrix, the label values and the lengths.
func (d *Dataset) Validate() error {
	if d.X == nil {
		return fmt.Errorf("dataset: no feature matrix")
	}
	if err := d.X.Validate(); err != nil {
		return fmt.Errorf("dataset: %w", err)
	}
	if d.Y != nil && len(d.Y) != d.X.Rows {
		return fmt.Errorf("dataset: %d labels for %d rows", len(d.Y), d.X.Rows)
	}
	if d.IDs != nil && len(d.IDs) != d.X.Rows {
		return fmt.Errorf("dataset: %d ids for %d rows", len(d.IDs), d.X.Rows)
	}
	for i, v := range d.Y {
		if v != 0 && v != 1 {
			return fmt.Errorf("dataset: label %v at row %d is not 0 or 1", v, i)
		}
	}
	return nil
}

// Positives counts the rows labelled 1.
func (d *Dataset) Positives() int {
	n := 0
	for _, v := range d.Y {
		if v == 1 {
			n++
		}
	}
	return n
}

// Subset returns the given rows (in that order) as a new dataset.
func (d *Dataset) Subset(rows []int) *Dataset {
	out := &Dataset{X: d.X.selectRows(rows), Encoding: d.Encoding}
	if d.Y != nil {
		out.Y = make([]float64, len(rows))
		for k, i := range rows {
			out.Y[k] = d.Y[i]
		}
	}
	if d.IDs != nil {
		out.IDs = make([]string, len(rows))
		for k, i := range rows {
			out.IDs[k] = d.IDs[i]
		}
	}
	return out
}

// checkTrainable rejects datasets a learner cannot fit.
func (d *Dataset) checkTrainable() error {
	if d == nil {
		return fmt.Errorf("dataset: nil")
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if d.Y == nil {
		return fmt.Errorf("dataset: no labels to train on")
	}
	pos := d.Positives()
	if pos == 0 || pos == len(d.Y) {
		return fmt.Errorf("dataset: %d positives among %d rows; training needs both classes", pos, len(d.Y))
	}
	return nil
}
