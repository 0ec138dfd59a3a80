//go:build unix

package faults_test

import (
	"io/fs"
	"syscall"
)

// diskBytes returns the disk space fi's file takes: its blocks, as du
// counts them (Badger's files may be sparse).
func diskBytes(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
