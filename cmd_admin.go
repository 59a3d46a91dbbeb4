package main

// SKELETON: the admin-commands helper replaces this file.

import "github.com/spf13/cobra"

func (a *app) newInspectCmd() *cobra.Command { return &cobra.Command{Use: "inspect"} }
func (a *app) newRevokeCmd() *cobra.Command  { return &cobra.Command{Use: "revoke"} }
func (a *app) newForgetCmd() *cobra.Command  { return &cobra.Command{Use: "forget"} }
func (a *app) newExecCmd() *cobra.Command    { return &cobra.Command{Use: "exec"} }
