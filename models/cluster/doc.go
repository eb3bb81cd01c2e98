// Package cluster finds behavioural micro-segments: k-means with seeded
// k-means++ starts, the silhouette score to compare partitions and choose k,
// a z-score scaler so that features on different scales weigh alike, and
// plain-words descriptions of what sets each cluster apart.
//
// Points are rows of a [][]float64 (one row per customer, one column per
// feature). Everything random takes a seed, so a run is reproducible.
package cluster
