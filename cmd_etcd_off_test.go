//go:build !etcd

package main

// etcdBuild: built without the etcd tag (see cmd_etcd_test.go).
const etcdBuild = false
