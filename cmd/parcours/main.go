// Command parcours is the batch customer-data warehouse: it loads the
// nightly omnichannel extracts into DuckDB, stitches customers, and runs
// the jobs of the nightly DAG. See README.md for the commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/parcours/parcours/internal/redact"
	"github.com/parcours/parcours/orchestration"
)

func main() {
	// Everything parcours creates is owner-only unless it says otherwise:
	// DuckDB writes hot.duckdb's WAL and spill files itself, and they hold
	// personal data. Shared outputs (cold exports, the report, Airflow
	// files) are given their modes explicitly.
	syscall.Umask(0o077)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := cpuProfile(os.Getenv("PARCOURS_CPU_PROFILE"), os.Stderr)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// cpuProfile writes a Go CPU profile of the whole command to path (none
// when empty), for `go tool pprof`: time spent inside DuckDB shows as
// cgo calls, time in models, vault and Go-side loops by function.
func cpuProfile(path string, stderr io.Writer) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "parcours: PARCOURS_CPU_PROFILE: %v\n", err)
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }
}

// execute runs the CLI and returns the process exit code; tests call it
// directly.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return orchestration.ExitOK
	}
	fmt.Fprintf(stderr, "parcours: %s\n", redact.Text(err.Error()))
	return orchestration.ExitCode(err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "parcours",
		Short: "Batch customer-data warehouse: nightly omnichannel loads, identities, privacy, models",
		Long: `parcours loads each night's omnichannel extracts into an embedded DuckDB
warehouse, stitches identities into customers and runs the jobs of the
nightly DAG. Exit codes: 0 success, 1 a job failed, 2 usage or configuration
error, 67 no customer holds the identifier asked about, 75 temporary failure
worth a retry, 99 nothing to do for that date.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := applyFormat(cmd); err != nil {
				return err
			}
			return a.load(cmd)
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return orchestration.Usage("%v (see %s --help)", err, c.CommandPath())
	})
	pf := root.PersistentFlags()
	pf.StringVar(&a.cfgPath, "config", "", "config file (default ./parcours.yaml if it exists, or $PARCOURS_CONFIG)")
	pf.StringVar(&a.flagWarehouse, "warehouse", "", "warehouse folder (default from config: ./warehouse)")
	pf.StringVar(&a.flagInput, "input", "", "input folder with one sub-folder of extracts per date (default ./data)")
	pf.StringVar(&a.flagLogFormat, "log-format", "", "auto | json | console (default auto: console on a terminal)")
	pf.StringVar(&a.flagLogLevel, "log-level", "", "debug | info | warn | error")
	pf.StringVar(&a.flagShard, "shard", "", "work on customer shard i of n (i/n) of a sharded warehouse (see parcours merge --help)")
	pf.StringVar(&a.flagMerged, "merged", "", "with --shard: the merged warehouse whose route stage loaded the night's input")
	root.AddCommand(a.runCommand(), a.statusCommand(), a.jobsCommand(), a.queryCommand(),
		a.fixturesCommand(), a.identityCommand(), a.contractsCommand(), a.configCommand(),
		a.privacyCommand(), a.keysCommand(), a.modelCommand(), a.attributionCommand(), a.reportCommand(), a.activateCommand(), a.backfillCommand(), a.dagCommand(), a.mergeCommand(), a.compactCommand(), a.migrateCommand(), a.sourcesCommand())
	wrapArgs(root)
	addFormat(root)
	return root
}

// wrapArgs makes argument-count mistakes usage errors (exit 2), and an
// unknown sub-command of a command group one too (cobra would print the
// group's help and exit 0).
func wrapArgs(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return orchestration.Usage("unknown command %q for %q (see %s --help)", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmd.Help()
		}
		recurse(c)
		return
	}
	if c.Args != nil {
		orig := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := orig(cmd, args); err != nil {
				return orchestration.Usage("%v (see %s --help)", err, cmd.CommandPath())
			}
			return nil
		}
	}
	recurse(c)
}

func recurse(c *cobra.Command) {
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// addFormat gives every command that prints results one way to choose the
// output: -o/--format table|json (|yaml where the command writes YAML),
// with the older --json and --yaml kept as aliases. Commands whose
// --format already names what they write (query's csv, dag export's
// airflow or dot) keep it.
func addFormat(c *cobra.Command) {
	if c.Flags().Lookup("json") != nil && c.Flags().Lookup("format") == nil {
		formats := "table | json"
		if c.Flags().Lookup("yaml") != nil {
			formats += " | yaml"
		}
		c.Flags().StringP("format", "o", "table", formatUsage+formats+" (--json is -o json)")
	}
	for _, sub := range c.Commands() {
		addFormat(sub)
	}
}

// applyFormat turns -o json (or yaml) into the command's own flag.
func applyFormat(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup("format")
	if f == nil || !f.Changed || !strings.HasPrefix(f.Usage, formatUsage) {
		return nil // not ours: query's and dag export's --format name what they write
	}
	switch v := f.Value.String(); v {
	case "table":
		return nil
	case "json", "yaml":
		if cmd.Flags().Lookup(v) != nil {
			return cmd.Flags().Set(v, "true")
		}
	}
	return orchestration.Usage("-o/--format %q: want %s", f.Value.String(), strings.TrimPrefix(f.Usage, formatUsage))
}

const formatUsage = "output format: "
