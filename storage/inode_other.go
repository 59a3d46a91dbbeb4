//go:build !unix

package storage

import "os"

// inode is 0 where FileInfo carries none; mtime and size still change with
// every save.
func inode(os.FileInfo) uint64 { return 0 }
