package main

import (
	"github.com/spf13/cobra"
)

func (a *app) fixturesCommand() *cobra.Command {
	c := &cobra.Command{Use: "fixtures", Short: "Generate synthetic omnichannel extracts with planted ground truth"}
	return c
}
