package churn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// The planted churn model used by the tests: 20 input columns, a recency
// feature, 18 numeric features (six with effects, twelve pure noise), one
// categorical plan, some missing values. The true log-odds is
//
//	−1 + 0.8·(recency − 60)/60 + Σ β_j x_j + effect(plan)
//
// where a missing numeric value contributes 0 (the features are centred,
// so that is also what mean imputation gives) and a missing plan
// contributes the average plan effect. Labels are drawn from it, so the
// true probabilities give the best AUC any model can reach (Bayes AUC).
const (
	synthIntercept = -1.0
	recencyMean    = 60.0
	recencyEffect  = 0.8
	recencyName    = "days_since_last_order"
)

// synthBeta holds the numeric effects of x01..x18 (x07..x18 have none).
var synthBeta = [18]float64{1.2, -1.0, 0.8, 0.6, -0.5, 0.4}

// synthMissing is the missing share of x01..x18.
var synthMissing = [18]float64{0, 0, 0.1, 0, 0.1, 0, 0, 0, 0, 0.2}

var synthPlans = []struct {
	name   string
	share  float64
	effect float64
}{{"basic", 0.5, 0.5}, {"plus", 0.3, 0}, {"premium", 0.2, -0.7}}

// synthTable is a generated table plus the ground truth per row.
type synthTable struct {
	cols []Column
	// prob is the true churn probability of each row.
	prob []float64
	// truth[i] maps each input column to its contribution to row i's true
	// log-odds.
	truth []map[string]float64
}

func numericName(j int) string { return fmt.Sprintf("x%02d", j+1) }

// genTable draws n customers with the planted model.
func genTable(n int, seed uint64) synthTable {
	rng := rand.New(rand.NewPCG(seed, 99))
	ids := make([]string, n)
	label := make([]string, n)
	recency := make([]float64, n)
	plan := make([]string, n)
	num := make([][]float64, 18)
	for j := range num {
		num[j] = make([]float64, n)
	}
	var meanPlan float64
	for _, p := range synthPlans {
		meanPlan += p.share * p.effect
	}
	st := synthTable{prob: make([]float64, n), truth: make([]map[string]float64, n)}
	for i := range n {
		ids[i] = fmt.Sprintf("C%06d", i)
		truth := map[string]float64{}
		eta := synthIntercept

		r := rng.ExpFloat64() * recencyMean
		recency[i] = math.Round(r)
		truth[recencyName] = recencyEffect * (recency[i] - recencyMean) / recencyMean
		if rng.Float64() < 0.05 {
			recency[i] = math.NaN()
			truth[recencyName] = 0
		}
		for j := range num {
			v := rng.NormFloat64()
			num[j][i] = v
			truth[numericName(j)] = synthBeta[j] * v
			if rng.Float64() < synthMissing[j] {
				num[j][i] = math.NaN()
				truth[numericName(j)] = 0
			}
		}
		u := rng.Float64()
		for _, p := range synthPlans {
			if u < p.share {
				plan[i] = p.name
				truth["plan"] = p.effect
				break
			}
			u -= p.share
		}
		if rng.Float64() < 0.05 {
			plan[i] = ""
			truth["plan"] = meanPlan
		}
		for _, c := range truth {
			eta += c
		}
		st.prob[i] = 1 / (1 + math.Exp(-eta))
		st.truth[i] = truth
		if rng.Float64() < st.prob[i] {
			label[i] = "yes"
		} else {
			label[i] = "no"
		}
	}
	st.cols = []Column{
		{Name: "customer", Text: ids},
		{Name: "churned", Text: label},
		{Name: recencyName, Float: recency},
	}
	for j := range num {
		st.cols = append(st.cols, Column{Name: numericName(j), Float: num[j]})
	}
	st.cols = append(st.cols, Column{Name: "plan", Text: plan})
	return st
}
