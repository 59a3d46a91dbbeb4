package main

// SKELETON: the UI helper replaces this file.

import (
	"context"

	"github.com/spf13/cobra"
)

func (a *app) runTUI(ctx context.Context) error { return nil }
func (a *app) newDemoCmd() *cobra.Command       { return &cobra.Command{Use: "demo"} }
