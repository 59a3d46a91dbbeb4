package main

// SKELETON: the session-commands helper replaces this file.

import "github.com/spf13/cobra"

func (a *app) newLoginCmd() *cobra.Command     { return &cobra.Command{Use: "login"} }
func (a *app) newImportCmd() *cobra.Command    { return &cobra.Command{Use: "import"} }
func (a *app) newListCmd() *cobra.Command      { return &cobra.Command{Use: "list"} }
func (a *app) newTokenCmd() *cobra.Command     { return &cobra.Command{Use: "token"} }
func (a *app) newRefreshCmd() *cobra.Command   { return &cobra.Command{Use: "refresh"} }
func (a *app) newKeepaliveCmd() *cobra.Command { return &cobra.Command{Use: "keepalive"} }
