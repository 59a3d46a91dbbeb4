package main

// SKELETON: the emulator helper replaces this file.

import "github.com/spf13/cobra"

func (a *app) newEmulatorCmd() *cobra.Command { return &cobra.Command{Use: "emulator"} }
