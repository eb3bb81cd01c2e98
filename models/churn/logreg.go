package churn

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// LogReg is L2-regularised logistic regression on standardised features.
//
// Each feature is standardised with its training mean and (population)
// standard deviation, both over non-missing values; a constant or empty
// column gets scale 1. A missing value is imputed with the training mean,
// so its standardised value is 0 and it contributes nothing to the score.
// The intercept is not penalised. The fit minimises
//
//	(1/n) Σ_i [log(1 + e^η_i) − y_i η_i] + (λ/2) Σ_j β_j²,  η_i = β_0 + Σ_j β_j z_ij
//
// with gonum's LBFGS and the analytic gradient. Contributions are β_j z_ij
// per feature with β_0 as the bias: they add up to the log-odds exactly.
type LogReg struct {
	// Lambda is the L2 penalty λ above (per row, on standardised coefficients).
	Lambda float64 `json:"lambda"`
	// MaxIterations caps the LBFGS iterations.
	MaxIterations int `json:"max_iterations"`
	// GradientTolerance stops LBFGS once the largest gradient component is
	// below it. When the line search stalls first (the objective is at
	// float precision), the fit is kept if the gradient is below
	// 1000 × GradientTolerance and fails otherwise.
	GradientTolerance float64 `json:"gradient_tolerance"`
}

// DefaultLogReg returns a lightly regularised logistic regression.
func DefaultLogReg() LogReg {
	return LogReg{Lambda: 1e-4, MaxIterations: 1000, GradientTolerance: 1e-8}
}

// Algorithm returns "logreg".
func (l LogReg) Algorithm() string { return AlgoLogReg }

// logRegState is the fitted model, as saved.
type logRegState struct {
	Params    LogReg    `json:"params"`
	Means     []float64 `json:"means"`
	Scales    []float64 `json:"scales"`
	Intercept float64   `json:"intercept"`
	// Coef holds one coefficient per standardised feature.
	Coef       []float64 `json:"coefficients"`
	Iterations int       `json:"iterations"`
	Status     string    `json:"status"`
}

// Fit standardises ds.X and fits the coefficients.
func (l LogReg) Fit(ctx context.Context, ds *Dataset) (*Model, error) {
	if err := ds.checkTrainable(); err != nil {
		return nil, fmt.Errorf("fit logreg: %w", err)
	}
	if !(l.Lambda >= 0) || l.MaxIterations < 1 || !(l.GradientTolerance > 0) {
		return nil, fmt.Errorf("fit logreg: invalid settings %+v", l)
	}
	st := &logRegState{Params: l}
	st.Means, st.Scales = standardisation(ds.X)
	z := st.standardise(ds.X)
	obj := &logLoss{z: z, y: ds.Y, lambda: l.Lambda}

	init := make([]float64, z.Cols()+1)
	rate := float64(ds.Positives()) / float64(len(ds.Y))
	init[0] = logit(rate)
	settings := &optimize.Settings{
		GradientThreshold: l.GradientTolerance,
		// Stop on the gradient, not on a stalled objective: coefficients are
		// wanted to ~1e-6, well past where the objective stops moving.
		Converger:       &optimize.FunctionConverge{Absolute: 1e-16, Iterations: 50},
		MajorIterations: l.MaxIterations,
		Recorder:        contextRecorder{ctx},
	}
	res, err := optimize.Minimize(optimize.Problem{Func: obj.value, Grad: obj.gradient}, init, settings, &optimize.LBFGS{})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, fmt.Errorf("fit logreg: %w", ctxErr)
	}
	if err != nil {
		if res == nil || res.Gradient == nil || floats.Norm(res.Gradient, math.Inf(1)) > 1000*l.GradientTolerance {
			return nil, fmt.Errorf("fit logreg: %w", err)
		}
		res.Status = optimize.Failure // recorded below; the point is kept
	}
	if math.IsNaN(res.F) {
		return nil, fmt.Errorf("fit logreg: objective is NaN")
	}
	st.Intercept = res.X[0]
	st.Coef = append([]float64(nil), res.X[1:]...)
	st.Iterations = res.MajorIterations
	st.Status = res.Status.String()
	if err != nil {
		st.Status = fmt.Sprintf("line search stalled at gradient %.2g", floats.Norm(res.Gradient, math.Inf(1)))
	}
	return newModel(AlgoLogReg, ds, st), nil
}

// contextRecorder stops the optimiser when the context is done: gonum ends
// Minimize with the error a Recorder returns.
type contextRecorder struct{ ctx context.Context }

// Init implements optimize.Recorder.
func (r contextRecorder) Init() error { return r.ctx.Err() }

// Record implements optimize.Recorder: it fails once the context is done.
func (r contextRecorder) Record(*optimize.Location, optimize.Operation, *optimize.Stats) error {
	return r.ctx.Err()
}

// standardisation returns each column's mean and scale over its
// non-missing values; a scale of 0 (constant or empty column) becomes 1.
func standardisation(x *Matrix) (means, scales []float64) {
	means = columnMeans(x)
	scales = make([]float64, x.Cols())
	n := make([]int, x.Cols())
	for i := range x.Rows {
		for j, v := range x.Row(i) {
			if !math.IsNaN(v) {
				d := v - means[j]
				scales[j] += d * d
				n[j]++
			}
		}
	}
	for j := range scales {
		if n[j] > 0 {
			scales[j] = math.Sqrt(scales[j] / float64(n[j]))
		}
		if scales[j] == 0 {
			scales[j] = 1
		}
	}
	return means, scales
}

// standardise returns (x − mean)/scale with missing values at 0.
func (s *logRegState) standardise(x *Matrix) *Matrix {
	z := NewMatrix(x.Names, x.Rows)
	for i := range x.Rows {
		src, dst := x.Row(i), z.Row(i)
		for j, v := range src {
			if !math.IsNaN(v) {
				dst[j] = (v - s.Means[j]) / s.Scales[j]
			}
		}
	}
	return z
}

// logLoss is the penalised objective; it evaluates value and gradient in one
// pass and caches them, since LBFGS asks for both at the same point.
type logLoss struct {
	z      *Matrix
	y      []float64
	lambda float64

	at   []float64
	f    float64
	grad []float64
}

func (o *logLoss) eval(w []float64) {
	if o.at != nil && equalFloats(o.at, w) {
		return
	}
	p := o.z.Cols()
	if o.grad == nil {
		o.grad = make([]float64, p+1)
	}
	g := o.grad
	clear(g)
	var f float64
	for i := range o.z.Rows {
		row := o.z.Row(i)
		eta := w[0]
		for j, v := range row {
			eta += w[j+1] * v
		}
		f += softplus(eta) - o.y[i]*eta
		r := sigmoid(eta) - o.y[i]
		g[0] += r
		for j, v := range row {
			g[j+1] += r * v
		}
	}
	n := float64(o.z.Rows)
	f /= n
	for j := range g {
		g[j] /= n
	}
	for j := 1; j <= p; j++ {
		f += 0.5 * o.lambda * w[j] * w[j]
		g[j] += o.lambda * w[j]
	}
	o.f = f
	o.at = append(o.at[:0], w...)
}

func (o *logLoss) value(w []float64) float64 {
	o.eval(w)
	return o.f
}

func (o *logLoss) gradient(grad, w []float64) {
	o.eval(w)
	copy(grad, o.grad)
}

// softplus is log(1 + e^x) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// margins returns the log-odds of each row of x.
func (s *logRegState) margins(ctx context.Context, x *Matrix) ([]float64, error) {
	out := make([]float64, x.Rows)
	for i := range x.Rows {
		if i%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		eta := s.Intercept
		for j, v := range x.Row(i) {
			if !math.IsNaN(v) {
				eta += s.Coef[j] * ((v - s.Means[j]) / s.Scales[j])
			}
		}
		out[i] = eta
	}
	return out, nil
}

func (s *logRegState) predict(ctx context.Context, x *Matrix) ([]float64, error) {
	m, err := s.margins(ctx, x)
	if err != nil {
		return nil, err
	}
	for i, v := range m {
		m[i] = sigmoid(v)
	}
	return m, nil
}

func (s *logRegState) contributions(ctx context.Context, x *Matrix) (*Contributions, error) {
	c := &Contributions{Features: x.Names, Rows: x.Rows, Values: make([]float64, len(x.Data)), Bias: make([]float64, x.Rows)}
	for i := range x.Rows {
		if i%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		dst := c.Row(i)
		for j, v := range x.Row(i) {
			if !math.IsNaN(v) {
				dst[j] = s.Coef[j] * ((v - s.Means[j]) / s.Scales[j])
			}
		}
		c.Bias[i] = s.Intercept
	}
	return c, nil
}

func (s *logRegState) additive() bool { return true }

func (s *logRegState) close() error { return nil }
