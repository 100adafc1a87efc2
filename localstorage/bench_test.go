package localstorage

import (
	"fmt"
	"testing"

	"github.com/skbsim/skbsim/cost"
	"github.com/skbsim/skbsim/kmem"
	"github.com/skbsim/skbsim/skb"
)

// The benchmarks time the model in Go; they are not kernel timings. The
// modelled cost (list-walk steps, cache hits, allocations per operation)
// is reported as extra metrics, which the cost table turns into
// nanoseconds.

func benchEnv(b *testing.B, cfg Config) *Env {
	b.Helper()
	e := NewEnv(cfg)
	b.Cleanup(e.Close)
	return e
}

func reportOps(b *testing.B, e *Env, before cost.Counts) {
	d := e.Acct().Ops().Sub(&before)
	n := float64(b.N)
	b.ReportMetric(float64(d[cost.OpListWalk])/n, "walk/op")
	b.ReportMetric(float64(d[cost.OpStorageCacheHit])/n, "hit/op")
	b.ReportMetric(float64(d[cost.OpKmalloc])/n, "kmalloc/op")
}

// BenchmarkSkGetCacheHit: bpf_sk_storage_get on a cached element.
func BenchmarkSkGetCacheHit(b *testing.B) {
	e := benchEnv(b, Config{})
	m, _ := e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
	sk := NewSock(nil)
	_, _ = m.SkStorageGet(sk, nil, GetCreate)
	_, _ = m.SkStorageGet(sk, nil, 0)
	before := *e.Acct().Ops()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.SkStorageGet(sk, nil, 0)
	}
	reportOps(b, e, before)
}

// BenchmarkSkGetSeq follows bench_local_storage's local-storage-cache-seq-get:
// one owner with an element in each of N maps, the maps read in turn. Past
// 16 maps they share cache slots and evict each other, and reads walk the
// list.
func BenchmarkSkGetSeq(b *testing.B) {
	for _, n := range []int{1, 16, 17, 24, 32, 100} {
		b.Run(fmt.Sprintf("maps=%d", n), func(b *testing.B) {
			e := benchEnv(b, Config{})
			sk := NewSock(nil)
			maps := make([]*Map, n)
			for i := range maps {
				maps[i], _ = e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
				if _, err := maps[i].SkStorageGet(sk, nil, GetCreate); err != nil {
					b.Fatal(err)
				}
			}
			for _, m := range maps {
				_, _ = m.SkStorageGet(sk, nil, 0)
			}
			before := *e.Acct().Ops()
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				_, _ = maps[i].SkStorageGet(sk, nil, 0)
				if i++; i == n {
					i = 0
				}
			}
			reportOps(b, e, before)
		})
	}
}

// BenchmarkSkCreateDelete: bpf_sk_storage_get(F_CREATE) then
// bpf_sk_storage_delete on one socket (the lab's sk create+delete loop),
// a grace period every iteration so objects are recycled.
func BenchmarkSkCreateDelete(b *testing.B) {
	e := benchEnv(b, Config{})
	m, _ := e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
	sk := NewSock(nil)
	before := *e.Acct().Ops()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.SkStorageGet(sk, nil, GetCreate)
		_ = m.SkStorageDelete(sk)
		e.GracePeriod()
	}
	reportOps(b, e, before)
}

// BenchmarkTaskCreateDelete: the task storage equivalent.
func BenchmarkTaskCreateDelete(b *testing.B) {
	e := benchEnv(b, Config{})
	m, _ := e.CreateMap(Spec(MapTypeTaskStorage, 8, 0))
	task := NewTask(1)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.TaskStorageGet(task, nil, GetCreate)
		_ = m.TaskStorageDelete(task)
		e.GracePeriod()
	}
}

// BenchmarkSkFirstCreate: the first element on a fresh socket (selem +
// storage), with the socket destructed and a grace period in the loop.
func BenchmarkSkFirstCreate(b *testing.B) {
	e := benchEnv(b, Config{})
	m, _ := e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
	var sk Sock
	net := NewNetCore()
	b.ReportAllocs()
	for b.Loop() {
		sk = Sock{net: net}
		_, _ = m.SkStorageGet(&sk, nil, GetCreate)
		sk.Destruct(e)
		e.GracePeriod()
	}
}

// BenchmarkSkReplace: BPF_MAP_UPDATE_ELEM(BPF_EXIST) on an existing
// element (a new element, the old one freed after the grace period).
func BenchmarkSkReplace(b *testing.B) {
	e := benchEnv(b, Config{})
	m, _ := e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
	files := NewFDTable()
	fd := files.Install(NewSock(nil))
	val := make([]byte, 8)
	_ = m.UpdateElem(files, fd, val, UpdateAny)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.UpdateElem(files, fd, val, UpdateExist)
		e.GracePeriod()
	}
}

// BenchmarkSkDelete: delete of one of two elements, the element recreated
// by the next iteration.
func BenchmarkSkDelete(b *testing.B) {
	e := benchEnv(b, Config{})
	keep, _ := e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
	m, _ := e.CreateMap(Spec(MapTypeSkStorage, 8, 0))
	sk := NewSock(nil)
	_, _ = keep.SkStorageGet(sk, nil, GetCreate)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.SkStorageGet(sk, nil, GetCreate)
		_ = m.SkStorageDelete(sk)
		e.GracePeriod()
	}
}

// BenchmarkSkbFirstWrite: per strategy, an skb allocated, its first
// bpf_skb_storage_get(F_CREATE), a read, and the free (the last extension
// put destroys the storage), with a grace period per packet.
func BenchmarkSkbFirstWrite(b *testing.B) {
	for _, st := range Strategies() {
		b.Run(string(st), func(b *testing.B) {
			acct := kmem.New()
			e := benchEnv(b, Config{Acct: acct, Skb: SkbConfig{Strategy: st}})
			a := skb.NewAllocator(acct, skb.DefaultProfile())
			e.AttachSkb(a)
			m, _ := e.CreateMap(Spec(MapTypeSkbStorage, 16, 0))
			e.RefillSkbPool()
			before := *e.Acct().Ops()
			b.ReportAllocs()
			for b.Loop() {
				s, _ := a.AllocSkb(256)
				_, _ = m.SkbStorageGet(CtxNormal, s, nil, GetCreate)
				_, _ = m.SkbStorageGet(CtxNormal, s, nil, 0)
				s.ConsumeSkb()
				e.GracePeriod()
			}
			reportOps(b, e, before)
		})
	}
}
