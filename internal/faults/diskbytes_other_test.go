//go:build !unix

package faults_test

import "io/fs"

// diskBytes returns the disk space fi's file takes: its size, where the
// system does not report its blocks.
func diskBytes(fi fs.FileInfo) int64 { return fi.Size() }
