package kmem

import (
	"fmt"
	"sync"
)

// Site identifies an allocation call site, such as "bpf_selem_alloc" or
// "skb_ext_add". Sites are registered once, from package init functions.
type Site uint8

// MaxSites bounds the number of registered sites, so that Stats is a fixed-size
// value.
const MaxSites = 48

var (
	siteMu    sync.Mutex
	siteNames = []string{"unknown"}
)

// SiteUnknown is the zero Site.
const SiteUnknown Site = 0

// RegisterSite returns the Site for name, registering it on first use.
// Registering the same name twice returns the same Site. It panics when more
// than MaxSites sites exist; call it from init or package-level var
// declarations.
func RegisterSite(name string) Site {
	siteMu.Lock()
	defer siteMu.Unlock()
	for i, n := range siteNames {
		if n == name {
			return Site(i)
		}
	}
	if len(siteNames) >= MaxSites {
		panic(fmt.Sprintf("kmem: more than %d allocation sites (registering %q)", MaxSites, name))
	}
	siteNames = append(siteNames, name)
	return Site(len(siteNames) - 1)
}

func (s Site) String() string {
	siteMu.Lock()
	defer siteMu.Unlock()
	if int(s) < len(siteNames) {
		return siteNames[s]
	}
	return fmt.Sprintf("site%d", s)
}

// NumSites returns how many sites are registered (including SiteUnknown).
func NumSites() int {
	siteMu.Lock()
	defer siteMu.Unlock()
	return len(siteNames)
}
