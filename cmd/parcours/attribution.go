package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/models/attribution"
	"github.com/parcours/parcours/orchestration"
)

// attributionCommand runs every attribution model on a path-aggregate file
// in the ChannelAttribution package's format, so analysts can compare.
func (a *app) attributionCommand() *cobra.Command {
	var o struct {
		paths, sep, delim string
		halfLife          float64
		orders            []int
		seed              uint64
		asJSON            bool
	}
	c := &cobra.Command{
		Use:   "attribution --paths FILE",
		Short: "Credit conversions and value to channels with every attribution model, from a path-aggregate file",
		Long: `Reads a path-aggregate CSV in the ChannelAttribution package's format:
path ("a > b > c", separator --sep), total_conversions, and optionally
total_conversion_value and total_null. Prints, per model and channel, the
credited conversions and value: first touch, last touch, linear, time decay
(--half-life, in touches), position-based 40/20/40, Markov removal effect
(--order, 1 to 3, solved exactly), the additive Shapley value and the touch
hazard (each touch's effect on the chance to convert, fitted by maximum
likelihood; see models/attribution/README.md). Every
model's credits are non-negative and add up to the file's conversions and
value.`,
		Example: `  parcours attribution --paths paths.csv
  parcours attribution --paths Data.csv --delim ';' --order 1,2,3 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.paths == "" {
				return orchestration.Usage("--paths is required")
			}
			delim := []rune(o.delim)
			if len(delim) != 1 || delim[0] == '"' || delim[0] == '\n' || delim[0] == '\r' {
				return orchestration.Usage("--delim %q: want one character (not a quote or a line break)", o.delim)
			}
			f, err := os.Open(o.paths)
			if err != nil {
				return orchestration.Usage("%v", err)
			}
			defer f.Close()
			paths, err := attribution.ParsePaths(f, o.sep, delim[0])
			if err != nil {
				return fmt.Errorf("%s: %w", o.paths, err)
			}
			for _, k := range o.orders {
				if k < 1 || k > attribution.MaxMarkovOrder {
					return orchestration.Usage("--order %d: want 1 to %d", k, attribution.MaxMarkovOrder)
				}
			}
			credits, err := attribution.RunAll(ctx, paths, attribution.Config{HalfLife: o.halfLife, MarkovOrders: o.orders})
			if err != nil {
				return fmt.Errorf("%s: %w", o.paths, err)
			}
			var conv, value, nulls float64
			for _, p := range paths {
				conv, value, nulls = conv+p.Conversions, value+p.Value, nulls+p.Nulls
			}
			if o.asJSON {
				models := map[string]map[string]map[string]float64{}
				for _, c := range credits {
					if models[c.Model] == nil {
						models[c.Model] = map[string]map[string]float64{}
					}
					models[c.Model][c.Channel] = map[string]float64{"conversions": c.Conversions, "value": c.Value}
				}
				return a.printJSON(map[string]any{"file": o.paths, "paths": len(paths), "total_conversions": conv,
					"total_conversion_value": value, "total_null": nulls, "models": models})
			}
			fmt.Fprintf(a.stdout, "%s: %d paths, %.0f conversions, value %.2f, %.0f non-converting\n\n", o.paths, len(paths), conv, value, nulls)
			// One table: channels down, models across (conversions; value below).
			var channels, models []string
			seenC, seenM := map[string]bool{}, map[string]bool{}
			cell := map[string]attribution.Credit{}
			for _, c := range credits {
				if !seenC[c.Channel] {
					seenC[c.Channel] = true
					channels = append(channels, c.Channel)
				}
				if !seenM[c.Model] {
					seenM[c.Model] = true
					models = append(models, c.Model)
				}
				cell[c.Model+"\x00"+c.Channel] = c
			}
			sort.Strings(channels)
			for _, what := range []string{"conversions", "value"} {
				fmt.Fprintf(a.stdout, "credited %s\n", what)
				rows := make([][]string, 0, len(channels))
				for _, ch := range channels {
					r := []string{ch}
					for _, m := range models {
						c := cell[m+"\x00"+ch]
						v := c.Conversions
						if what == "value" {
							v = c.Value
						}
						r = append(r, fmt.Sprintf("%.2f", v))
					}
					rows = append(rows, r)
				}
				printTable(a.stdout, append([]string{"channel"}, models...), rows)
				fmt.Fprintln(a.stdout)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.paths, "paths", "", "path-aggregate CSV (path, total_conversions[, total_conversion_value, total_null])")
	f.StringVar(&o.sep, "sep", attribution.DefaultSeparator, "channel separator inside a path")
	f.StringVar(&o.delim, "delim", ",", "field delimiter of the file")
	f.Float64Var(&o.halfLife, "half-life", attribution.DefaultHalfLife, "time-decay half-life, in touches before the conversion")
	f.IntSliceVar(&o.orders, "order", []int{1, 2, 3}, "Markov orders")
	f.Uint64Var(&o.seed, "seed", 1, "")
	// Kept so that existing scripts still run: it seeded the removed
	// conversion-rate Shapley value, and nothing is sampled any more.
	_ = f.MarkDeprecated("seed", "nothing is sampled since the conversion-rate Shapley value was removed")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object")
	return c
}
