//go:build !linux

package testutil

import "errors"

func checkPrivileges() error {
	return errors.New("the kernel tests need Linux")
}
