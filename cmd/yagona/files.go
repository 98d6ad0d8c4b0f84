package main

import (
	"os"
)

// writeSecret creates path readable by its owner only (with exclusive,
// only if it does not exist yet) and writes what produce returns; if
// produce or the write fails, the file is removed.
func writeSecret(path string, exclusive bool, produce func() ([]byte, error)) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if exclusive {
		flag = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return err
	}
	data, err := produce()
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}
