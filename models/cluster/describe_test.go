package cluster

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDescribeByHand(t *testing.T) {
	// x: 0 0 2 2 → mean 1, sd 1: cluster 0 has z = -1, cluster 1 z = +1.
	// y is constant and cannot set anyone apart. w: 1 3 1 3 → equal means.
	points := [][]float64{{0, 5, 1}, {0, 5, 3}, {2, 5, 1}, {2, 5, 3}}
	got, err := Describe(points, []int{0, 0, 1, 1}, []string{"x", "y", "w"}, DescribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Description{
		{Cluster: 0, Size: 2, Share: 0.5, Distinctive: []Deviation{{"x", 0, 1, -1}}, Text: "2 customers (50.0%): low x"},
		{Cluster: 1, Size: 2, Share: 0.5, Distinctive: []Deviation{{"x", 2, 1, 1}}, Text: "2 customers (50.0%): high x"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Cluster != w.Cluster || g.Size != w.Size || g.Share != w.Share || g.Text != w.Text ||
			len(g.Distinctive) != 1 || g.Distinctive[0] != w.Distinctive[0] {
			t.Errorf("got %+v, want %+v", g, w)
		}
	}
}

func TestDescribeNamesPlantedFeatures(t *testing.T) {
	// 100 app-first customers (10 sd more sessions, 8 sd fewer email
	// opens), 100 big spenders (basket value 10 sd higher) and 300 ordinary
	// ones; tenure carries no signal. Feature scales differ on purpose.
	names := []string{"app sessions", "email opens", "basket value", "tenure days"}
	rng := rand.New(rand.NewPCG(17, 2))
	var points [][]float64
	var truth []int
	for i := 0; i < 500; i++ {
		g := 2
		switch {
		case i%5 == 0:
			g = 0
		case i%5 == 1:
			g = 1
		}
		p := []float64{
			4 + rng.NormFloat64(),       // sessions a month
			10 + 2*rng.NormFloat64(),    // email opens a month
			60 + 15*rng.NormFloat64(),   // basket value
			400 + 150*rng.NormFloat64(), // tenure
		}
		switch g {
		case 0:
			p[0] += 10
			p[1] -= 16
		case 1:
			p[2] += 150
		}
		points = append(points, p)
		truth = append(truth, g)
	}

	// End to end as the segments job will run it: standardise, choose k by
	// silhouette, describe on the raw scale.
	scaler, err := FitScaler(points)
	if err != nil {
		t.Fatal(err)
	}
	z, err := scaler.Transform(points)
	if err != nil {
		t.Fatal(err)
	}
	best, scores, err := ChooseK(t.Context(), z, 2, 6, Options{Seed: 4}, SilhouetteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !matchesTruth(best.Labels, truth) {
		t.Fatalf("k-means did not recover the 3 planted groups (chose k=%d; %+v)", len(best.Centroids), scores)
	}
	descs, err := Describe(points, best.Labels, names, DescribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byTruth := make(map[int]Description)
	for _, d := range descs {
		for i, l := range best.Labels {
			if l == d.Cluster {
				byTruth[truth[i]] = d
				break
			}
		}
	}
	checks := []struct {
		group     int
		text      string
		size      int
		firstName string
	}{
		{0, "100 customers (20.0%): very high app sessions, very low email opens", 100, "app sessions"},
		{1, "100 customers (20.0%): very high basket value", 100, "basket value"},
		{2, "300 customers (60.0%): close to average on every feature", 300, ""},
	}
	for _, c := range checks {
		d := byTruth[c.group]
		if d.Text != c.text || d.Size != c.size || math.Abs(d.Share-float64(c.size)/500) > 1e-15 {
			t.Errorf("group %d: %q (size %d, share %v), want %q", c.group, d.Text, d.Size, d.Share, c.text)
		}
		if strings.Contains(d.Text, "tenure") {
			t.Errorf("group %d: the noise feature is named: %q", c.group, d.Text)
		}
		if c.firstName != "" && (len(d.Distinctive) == 0 || d.Distinctive[0].Feature != c.firstName) {
			t.Errorf("group %d: distinctive %+v, want %s first", c.group, d.Distinctive, c.firstName)
		}
	}
}

func TestDescribeErrors(t *testing.T) {
	pts := [][]float64{{1, 2}, {3, 4}}
	if _, err := Describe(pts, []int{0, 1}, []string{"only one"}, DescribeOptions{}); err == nil {
		t.Error("wrong number of names accepted")
	}
	if _, err := Describe(pts, []int{0}, []string{"a", "b"}, DescribeOptions{}); err == nil {
		t.Error("wrong number of labels accepted")
	}
	if _, err := Describe(pts, []int{0, -1}, []string{"a", "b"}, DescribeOptions{}); err == nil {
		t.Error("negative label accepted")
	}
}
