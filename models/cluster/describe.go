package cluster

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Defaults for the zero values of DescribeOptions.
const (
	defaultMaxFeatures = 3
	defaultMinAbsZ     = 0.5
	// veryZ is the deviation, in overall standard deviations, from which a
	// feature is "very" high or low.
	veryZ = 1.5
)

// DescribeOptions tunes Describe.
type DescribeOptions struct {
	// MaxFeatures is the most features named per cluster. 0 means 3.
	MaxFeatures int
	// MinAbsZ is the smallest |z| for a feature to be named, where z is the
	// cluster mean minus the overall mean in overall standard deviations.
	// 0 means 0.5.
	MinAbsZ float64
}

// Deviation is how far one feature's cluster mean lies from its overall mean.
type Deviation struct {
	Feature     string  `json:"feature"`
	ClusterMean float64 `json:"cluster_mean"`
	OverallMean float64 `json:"overall_mean"`
	// Z is (ClusterMean - OverallMean) / overall standard deviation.
	Z float64 `json:"z"`
}

// Description says in words what sets one cluster apart.
type Description struct {
	Cluster int     `json:"cluster"`
	Size    int     `json:"size"`
	Share   float64 `json:"share"`
	// Distinctive are the features named, largest |Z| first.
	Distinctive []Deviation `json:"distinctive"`
	// Text reads like "1200 customers (24.0%): high app sessions, low email
	// opens".
	Text string `json:"text"`
}

// Describe describes each cluster by the features whose cluster mean
// deviates most from the overall mean, in overall standard deviations, so
// the ranking does not depend on the features' units. Pass the points on the
// scale people read (unstandardised) so the means in the result mean
// something; z-scores are the same either way. names gives the display name
// of each feature; constant features cannot set a cluster apart and are
// skipped. Clusters come in label order 0..k-1; empty ones are left out.
func Describe(points [][]float64, labels []int, names []string, opts DescribeOptions) ([]Description, error) {
	d, err := checkPoints(points)
	if err != nil {
		return nil, fmt.Errorf("describe clusters: %w", err)
	}
	if len(labels) != len(points) || len(names) != d {
		return nil, fmt.Errorf("describe clusters: %d points, %d labels, %d features, %d names", len(points), len(labels), d, len(names))
	}
	if opts.MaxFeatures == 0 {
		opts.MaxFeatures = defaultMaxFeatures
	}
	if opts.MinAbsZ == 0 {
		opts.MinAbsZ = defaultMinAbsZ
	}
	k := 0
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("describe clusters: label %d of point %d is negative", l, i)
		}
		k = max(k, l+1)
	}
	means, sds := featureMoments(points)
	sizes := make([]int, k)
	sums := make([][]float64, k)
	for c := range sums {
		sums[c] = make([]float64, d)
	}
	for i, p := range points {
		c := labels[i]
		sizes[c]++
		for j, v := range p {
			sums[c][j] += v
		}
	}

	var out []Description
	for c := 0; c < k; c++ {
		if sizes[c] == 0 {
			continue
		}
		var devs []Deviation
		for j := 0; j < d; j++ {
			if sds[j] == 0 {
				continue
			}
			cm := sums[c][j] / float64(sizes[c])
			z := (cm - means[j]) / sds[j]
			if math.Abs(z) >= opts.MinAbsZ {
				devs = append(devs, Deviation{Feature: names[j], ClusterMean: cm, OverallMean: means[j], Z: z})
			}
		}
		// Stable, so equal deviations keep the caller's feature order.
		sort.SliceStable(devs, func(a, b int) bool { return math.Abs(devs[a].Z) > math.Abs(devs[b].Z) })
		if len(devs) > opts.MaxFeatures {
			devs = devs[:opts.MaxFeatures]
		}
		share := float64(sizes[c]) / float64(len(points))
		out = append(out, Description{
			Cluster:     c,
			Size:        sizes[c],
			Share:       share,
			Distinctive: devs,
			Text:        fmt.Sprintf("%d customers (%.1f%%): %s", sizes[c], 100*share, describeDeviations(devs)),
		})
	}
	return out, nil
}

func describeDeviations(devs []Deviation) string {
	if len(devs) == 0 {
		return "close to average on every feature"
	}
	parts := make([]string, len(devs))
	for i, dv := range devs {
		level := "high"
		if dv.Z < 0 {
			level = "low"
		}
		if math.Abs(dv.Z) >= veryZ {
			level = "very " + level
		}
		parts[i] = level + " " + dv.Feature
	}
	return strings.Join(parts, ", ")
}
