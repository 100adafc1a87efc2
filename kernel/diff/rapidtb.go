package diff

import "fmt"

// recordTB is the rapid.TB the suites run rapid with outside go test: it
// records failures instead of stopping a test.
type recordTB struct {
	name   string
	failed bool
	errs   []string
}

func (t *recordTB) Helper()                         {}
func (t *recordTB) Name() string                    { return t.name }
func (t *recordTB) Logf(format string, args ...any) {}
func (t *recordTB) Log(args ...any)                 {}
func (t *recordTB) Skipf(format string, args ...any) {
	t.Errorf("skipped: "+format, args...)
}
func (t *recordTB) Skip(args ...any) { t.Error(append([]any{"skipped: "}, args...)...) }
func (t *recordTB) SkipNow()         { t.Error("skipped") }
func (t *recordTB) Errorf(format string, args ...any) {
	t.failed = true
	t.errs = append(t.errs, fmt.Sprintf(format, args...))
}
func (t *recordTB) Error(args ...any)                 { t.Errorf("%s", fmt.Sprint(args...)) }
func (t *recordTB) Fatalf(format string, args ...any) { t.Errorf(format, args...) }
func (t *recordTB) Fatal(args ...any)                 { t.Error(args...) }
func (t *recordTB) FailNow()                          { t.failed = true }
func (t *recordTB) Fail()                             { t.failed = true }
func (t *recordTB) Failed() bool                      { return t.failed }
