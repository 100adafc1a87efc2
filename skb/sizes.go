package skb

// Kernel object sizes and layout constants on x86-64 (LP64, 64-byte cache
// lines, SLUB, MAX_SKB_FRAGS = 17, PAGE_SIZE = 4096). They decide how much
// memory each modelled allocation takes and where skb_shared_info starts.
const (
	// L1CacheBytes is SMP_CACHE_BYTES / L1_CACHE_BYTES.
	L1CacheBytes = 64
	// SizeofSkBuff is sizeof(struct sk_buff) on a 6.x x86-64 build (232,
	// pahole of a distribution config); the skbuff_head_cache slab rounds
	// it to 256 (SLAB_HWCACHE_ALIGN).
	SizeofSkBuff = 232
	// SizeofSkBuffFclones is sizeof(struct sk_buff_fclones): two sk_buffs
	// and a refcount_t, padded to 8.
	SizeofSkBuffFclones = (2*SizeofSkBuff + 4 + 7) &^ 7
	// SizeofSharedInfo is SKB_DATA_ALIGN(sizeof(struct skb_shared_info)):
	// 48 bytes of fields plus 17 16-byte skb_frag_t.
	SizeofSharedInfo = 320
	// NetSkbPad is NET_SKB_PAD = max(32, L1_CACHE_BYTES).
	NetSkbPad = 64
	// NetIPAlign is NET_IP_ALIGN, 0 on x86.
	NetIPAlign = 0
	// XDPPacketHeadroom is XDP_PACKET_HEADROOM.
	XDPPacketHeadroom = 256
	// SizeofXDPFrame is sizeof(struct xdp_frame), stored at the start of
	// an XDP buffer's headroom.
	SizeofXDPFrame = 40
	// MaxTCPHeader is MAX_TCP_HEADER = L1_CACHE_ALIGN(128 + MAX_HEADER)
	// with MAX_HEADER = LL_MAX_HEADER(128) + 48 (tunnels enabled).
	MaxTCPHeader = 320
	// SmallHeadCacheSize is SKB_SMALL_HEAD_CACHE_SIZE =
	// SKB_HEAD_ALIGN(MAX_TCP_HEADER), the object size of the
	// skbuff_small_head cache (v6.3, bf9f1baa279f).
	SmallHeadCacheSize = 640
	// SmallHeadHeadroom is SKB_SMALL_HEAD_HEADROOM =
	// SKB_WITH_OVERHEAD(SKB_SMALL_HEAD_CACHE_SIZE).
	SmallHeadHeadroom = SmallHeadCacheSize - SizeofSharedInfo
	// PageSize is PAGE_SIZE.
	PageSize = 4096
	// EthHlen is ETH_HLEN; VlanHlen is VLAN_HLEN.
	EthHlen  = 14
	VlanHlen = 4
	// CBSize is sizeof(skb->cb).
	CBSize = 48
	// unsetOffset is the (u16)~0U that __alloc_skb stores in mac_header and
	// transport_header ("not set").
	unsetOffset = 0xffff
)

// dataAlign models SKB_DATA_ALIGN(X): round up to SMP_CACHE_BYTES.
func dataAlign(x int) int { return (x + L1CacheBytes - 1) &^ (L1CacheBytes - 1) }

// DataAlign is SKB_DATA_ALIGN(x), for callers that size a head as the
// kernel does.
func DataAlign(x int) int { return dataAlign(x) }

// headAlign models SKB_HEAD_ALIGN(X) = SKB_DATA_ALIGN(X) +
// SKB_DATA_ALIGN(sizeof(struct skb_shared_info)).
func headAlign(x int) int { return dataAlign(x) + SizeofSharedInfo }

// withOverhead models SKB_WITH_OVERHEAD(X) = X - SKB_DATA_ALIGN(sizeof(struct
// skb_shared_info)).
func withOverhead(x int) int { return x - SizeofSharedInfo }

// trueSize models SKB_TRUESIZE(X) = X + SKB_DATA_ALIGN(sizeof(struct sk_buff))
// + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)).
func trueSize(x int) int { return x + dataAlign(SizeofSkBuff) + SizeofSharedInfo }

// alignUp rounds x up to a multiple of a (a power of two), as ALIGN().
func alignUp(x, a int) int { return (x + a - 1) &^ (a - 1) }
