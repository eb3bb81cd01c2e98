// Package attribution credits conversions to marketing channels from anonymous
// conversion-path aggregates: heuristic models (first touch, last touch, linear,
// time decay, position based) and data-driven ones (Markov chain removal effect
// of order 1 to 3, Shapley values). Paths carry counts only, never identities.
package attribution
