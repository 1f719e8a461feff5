// Package atomicfile writes state files so that a reader sees either the old
// content or the new one, never a part: write a temporary file in the same
// directory, fsync it, rename it over the target, fsync the directory.
// Every error is returned; a failed write leaves the previous file intact
// and removes its temporary file.
//
// Every state file of the agent (journal, in-progress record, results,
// reports, heal state, plugin cache, upgrade staging) goes through here.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces file with data, created with mode.
func WriteFile(file string, data []byte, mode os.FileMode) error {
	return Write(file, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write atomically replaces file with what fill writes, created with mode.
// A fill error, a short write (ENOSPC), a failed fsync or rename all leave
// the previous file as it was.
func Write(file string, mode os.FileMode, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(file)
	f, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err = fill(f); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", file, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", file, err)
	}
	if err = os.Rename(tmp, file); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err = SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

// SyncDir fsyncs a directory so that a rename or create in it survives a
// crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
