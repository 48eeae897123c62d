;; The loops a command runs once over a whole kernel table, as WebAssembly: V8 runs a loop that
;; runs once in its interpreter and baseline tiers (a command's process is short), where this code
;; is compiled before its first iteration. bulk.ts places the tables in the memory this module
;; imports and calls these; on any problem they return -1 and the JavaScript that does the same
;; (and says what is wrong) runs instead. bulk-wasm-bytes.ts holds the assembled bytes
;; (scripts/build-wasm.mjs, checked by workers/wasm-bytes.test.ts).
(module
  (import "env" "memory" (memory 1))

  ;; BTF type records from $off to $end: each record's offset (u32 at $recOff) and kind (u8 at
  ;; $recKind), at most $cap of them. A record is 12 + fixed[kind] + per[kind] * vlen bytes
  ;; (tables of 32: i8 fixed, -1 for no such kind; u8 per member). The count, or -1.
  (func (export "btf_scan") (param $off i32) (param $end i32) (param $recOff i32) (param $recKind i32)
    (param $cap i32) (param $fixed i32) (param $per i32) (result i32)
    (local $n i32) (local $info i32) (local $kind i32) (local $f i32) (local $len i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $off) (local.get $end)))
        (if (i32.gt_u (i32.add (local.get $off) (i32.const 12)) (local.get $end)) (then (return (i32.const -1))))
        (local.set $info (i32.load offset=4 align=1 (local.get $off)))
        (local.set $kind (i32.and (i32.shr_u (local.get $info) (i32.const 24)) (i32.const 0x1f)))
        (local.set $f (i32.load8_s (i32.add (local.get $fixed) (local.get $kind))))
        (if (i32.lt_s (local.get $f) (i32.const 0)) (then (return (i32.const -1))))
        (local.set $len (i32.add (i32.add (i32.const 12) (local.get $f))
          (i32.mul (i32.load8_u (i32.add (local.get $per) (local.get $kind))) (i32.and (local.get $info) (i32.const 0xffff)))))
        (if (i32.gt_u (i32.add (local.get $off) (local.get $len)) (local.get $end)) (then (return (i32.const -1))))
        (if (i32.ge_u (local.get $n) (local.get $cap)) (then (return (i32.const -1))))
        (i32.store (i32.add (local.get $recOff) (i32.shl (local.get $n) (i32.const 2))) (local.get $off))
        (i32.store8 (i32.add (local.get $recKind) (local.get $n)) (local.get $kind))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (local.set $off (i32.add (local.get $off) (local.get $len)))
        (br $next)))
    (local.get $n))

  ;; The name hash (h = h * 0x01000193 + byte, mod 2^32) of every named record of $n whose kind
  ;; is FUNC ($funcs 1) or is not (0), skipping the kinds $skip marks (a table of 32 u8): its id
  ;; ($startId + index, i32 at $ids) and hash (i32 at $hashes), in index order. Names are offsets
  ;; into the $strLen bytes of strings at $str; a record's name offset is its first word. The count.
  (func (export "btf_names") (param $recOff i32) (param $recKind i32) (param $n i32) (param $funcs i32)
    (param $skip i32) (param $str i32) (param $strLen i32) (param $ids i32) (param $hashes i32)
    (param $startId i32) (result i32)
    (local $i i32) (local $m i32) (local $k i32) (local $c i32) (local $h i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $skipIt
          (local.set $k (i32.load8_u (i32.add (local.get $recKind) (local.get $i))))
          (br_if $skipIt (i32.ne (i32.eq (local.get $k) (i32.const 12)) (local.get $funcs)))
          (br_if $skipIt (i32.load8_u (i32.add (local.get $skip) (local.get $k))))
          (local.set $c (i32.load (i32.load (i32.add (local.get $recOff) (i32.shl (local.get $i) (i32.const 2))))))
          (br_if $skipIt (i32.eqz (local.get $c)))
          (local.set $h (call $strHash (local.get $str) (local.get $strLen) (local.get $c)))
          (i32.store (i32.add (local.get $ids) (i32.shl (local.get $m) (i32.const 2))) (i32.add (local.get $startId) (local.get $i)))
          (i32.store (i32.add (local.get $hashes) (i32.shl (local.get $m) (i32.const 2))) (local.get $h))
          (local.set $m (i32.add (local.get $m) (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $m))

  ;; The name hash (h = h * 0x01000193 + byte, mod 2^32) of the string at offset $c of the $strLen
  ;; bytes at $str, up to its NUL or the end.
  (func $strHash (param $str i32) (param $strLen i32) (param $c i32) (result i32)
    (local $h i32) (local $ch i32)
    (block $end
      (loop $char
        (br_if $end (i32.ge_u (local.get $c) (local.get $strLen)))
        (local.set $ch (i32.load8_u (i32.add (local.get $str) (local.get $c))))
        (br_if $end (i32.eqz (local.get $ch)))
        (local.set $h (i32.add (i32.mul (local.get $h) (i32.const 0x01000193)) (local.get $ch)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $char)))
    (local.get $h))

  ;; Every enumerator of the enum (kind 6, 8-byte entries) and enum64 (kind 19, 12-byte) records:
  ;; its enum's id ($startId + index, i32 at $ids), its place in the enum (i32 at $at) and its name
  ;; hash (i32 at $hashes), in record order; at most $cap. The count, or -1.
  (func (export "btf_enums") (param $recOff i32) (param $recKind i32) (param $n i32) (param $str i32)
    (param $strLen i32) (param $ids i32) (param $at i32) (param $hashes i32) (param $startId i32)
    (param $cap i32) (result i32)
    (local $i i32) (local $m i32) (local $k i32) (local $stride i32) (local $off i32) (local $v i32) (local $vlen i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $skipIt
          (local.set $k (i32.load8_u (i32.add (local.get $recKind) (local.get $i))))
          (local.set $stride (select (i32.const 8) (i32.const 12) (i32.eq (local.get $k) (i32.const 6))))
          (br_if $skipIt (i32.and (i32.ne (local.get $k) (i32.const 6)) (i32.ne (local.get $k) (i32.const 19))))
          (local.set $off (i32.load (i32.add (local.get $recOff) (i32.shl (local.get $i) (i32.const 2)))))
          (local.set $vlen (i32.and (i32.load offset=4 align=1 (local.get $off)) (i32.const 0xffff)))
          (local.set $v (i32.const 0))
          (block $last
            (loop $value
              (br_if $last (i32.ge_u (local.get $v) (local.get $vlen)))
              (if (i32.ge_u (local.get $m) (local.get $cap)) (then (return (i32.const -1))))
              (i32.store (i32.add (local.get $ids) (i32.shl (local.get $m) (i32.const 2))) (i32.add (local.get $startId) (local.get $i)))
              (i32.store (i32.add (local.get $at) (i32.shl (local.get $m) (i32.const 2))) (local.get $v))
              (i32.store (i32.add (local.get $hashes) (i32.shl (local.get $m) (i32.const 2)))
                (call $strHash (local.get $str) (local.get $strLen)
                  (i32.load align=1 (i32.add (i32.add (local.get $off) (i32.const 12)) (i32.mul (local.get $v) (local.get $stride))))))
              (local.set $m (i32.add (local.get $m) (i32.const 1)))
              (local.set $v (i32.add (local.get $v) (i32.const 1)))
              (br $value))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $m))

  ;; An open-addressing table (linear probing; $mask + 1 i32 at $slots, zeroed) of entry index + 1
  ;; by the $m hashes (i32 at $hashes), filled in entry order from each hash mixed (h ^= h >>> 16;
  ;; h *= 0x45d9f3b; h ^= h >>> 16) and masked.
  (func (export "hash_slots") (param $hashes i32) (param $m i32) (param $slots i32) (param $mask i32)
    (local $j i32) (local $h i32) (local $x i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $h (i32.load (i32.add (local.get $hashes) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
        (local.set $h (i32.mul (local.get $h) (i32.const 0x45d9f3b)))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
        (local.set $x (i32.and (local.get $h) (local.get $mask)))
        (block $free
          (loop $probe
            (br_if $free (i32.eqz (i32.load (i32.add (local.get $slots) (i32.shl (local.get $x) (i32.const 2))))))
            (local.set $x (i32.and (i32.add (local.get $x) (i32.const 1)) (local.get $mask)))
            (br $probe)))
        (i32.store (i32.add (local.get $slots) (i32.shl (local.get $x) (i32.const 2))) (i32.add (local.get $j) (i32.const 1)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next))))

  ;; kallsyms_names' $num entries in the $len bytes at $buf: each entry's start (u32 at $at) and
  ;; token count (u16 at $lens); a count byte with 0x80 set takes 7 more bits from the next byte.
  ;; The end of the last entry, or -1 (an entry of length 0 or over 4096, or past the end).
  (func (export "ks_parse") (param $buf i32) (param $len i32) (param $num i32) (param $at i32) (param $lens i32) (result i32)
    (local $i i32) (local $pos i32) (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $num)))
        (if (i32.ge_u (local.get $pos) (local.get $len)) (then (return (i32.const -1))))
        (local.set $n (i32.load8_u (i32.add (local.get $buf) (local.get $pos))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (if (i32.and (local.get $n) (i32.const 0x80))
          (then
            (if (i32.ge_u (local.get $pos) (local.get $len)) (then (return (i32.const -1))))
            (local.set $n (i32.or (i32.and (local.get $n) (i32.const 0x7f))
              (i32.shl (i32.load8_u (i32.add (local.get $buf) (local.get $pos))) (i32.const 7))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))))
        (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 4096))) (then (return (i32.const -1))))
        (if (i32.gt_u (i32.add (local.get $pos) (local.get $n)) (local.get $len)) (then (return (i32.const -1))))
        (i32.store (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2))) (local.get $pos))
        (i32.store16 (i32.add (local.get $lens) (i32.shl (local.get $i) (i32.const 1))) (local.get $n))
        (local.set $pos (i32.add (local.get $pos) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $pos))

  ;; kallsyms_seqs_of_names' $num entries of 3 bytes (big-endian) at $seqs: 1 when they name
  ;; every entry of 0..$num-1 exactly once, else 0. $seen: $num bytes of scratch, cleared here.
  (func (export "ks_seqs") (param $seqs i32) (param $num i32) (param $seen i32) (result i32)
    (local $k i32) (local $p i32) (local $x i32)
    (memory.fill (local.get $seen) (i32.const 0) (local.get $num))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $num)))
        (local.set $p (i32.add (local.get $seqs) (i32.mul (local.get $k) (i32.const 3))))
        (local.set $x (i32.or (i32.or
          (i32.shl (i32.load8_u (local.get $p)) (i32.const 16))
          (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 8)))
          (i32.load8_u offset=2 (local.get $p))))
        (if (i32.ge_u (local.get $x) (local.get $num)) (then (return (i32.const 0))))
        (if (i32.load8_u (i32.add (local.get $seen) (local.get $x))) (then (return (i32.const 0))))
        (i32.store8 (i32.add (local.get $seen) (local.get $x)) (i32.const 1))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; Each entry's name hash, composed token by token (h = h * pw[token] + hv[token]; the first token
  ;; without its type letter: hvTail), then mixed (h ^= h >>> 16; h *= 0x45d9f3b; h ^= h >>> 16):
  ;; u32 at $out. pw, hv, hvTail: tables of 256 i32.
  (func (export "ks_hash") (param $buf i32) (param $at i32) (param $lens i32) (param $num i32)
    (param $pw i32) (param $hv i32) (param $hvTail i32) (param $out i32)
    (local $i i32) (local $pos i32) (local $end i32) (local $h i32) (local $tok i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $num)))
        (local.set $pos (i32.add (local.get $buf) (i32.load (i32.add (local.get $at) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $end (i32.add (local.get $pos) (i32.load16_u (i32.add (local.get $lens) (i32.shl (local.get $i) (i32.const 1))))))
        (local.set $h (i32.load (i32.add (local.get $hvTail) (i32.shl (i32.load8_u (local.get $pos)) (i32.const 2)))))
        (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
        (block $last
          (loop $token
            (br_if $last (i32.ge_u (local.get $pos) (local.get $end)))
            (local.set $tok (i32.shl (i32.load8_u (local.get $pos)) (i32.const 2)))
            (local.set $h (i32.add (i32.mul (local.get $h) (i32.load (i32.add (local.get $pw) (local.get $tok))))
              (i32.load (i32.add (local.get $hv) (local.get $tok)))))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (br $token)))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
        (local.set $h (i32.mul (local.get $h) (i32.const 0x45d9f3b)))
        (local.set $h (i32.xor (local.get $h) (i32.shr_u (local.get $h) (i32.const 16))))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2))) (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; A counting sort of $num entries by bucket (hash >>> $shift; u32 hashes at $hashes): $start
  ;; (u32, 2^(32 - shift) + 1 of them, zeroed) ends as each bucket's first place in $order (u32),
  ;; which lists each bucket's entries in index order.
  (func (export "ks_buckets") (param $hashes i32) (param $num i32) (param $shift i32) (param $start i32) (param $order i32)
    (local $i i32) (local $b i32) (local $nb i32) (local $p i32)
    (block $done
      (loop $count
        (br_if $done (i32.ge_u (local.get $i) (local.get $num)))
        (local.set $p (i32.add (local.get $start) (i32.shl
          (i32.shr_u (i32.load (i32.add (local.get $hashes) (i32.shl (local.get $i) (i32.const 2)))) (local.get $shift))
          (i32.const 2))))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $count)))
    (local.set $nb (i32.shl (i32.const 1) (i32.sub (i32.const 32) (local.get $shift))))
    (local.set $b (i32.const 1))
    (block $done
      (loop $sum
        (br_if $done (i32.gt_u (local.get $b) (local.get $nb)))
        (local.set $p (i32.add (local.get $start) (i32.shl (local.get $b) (i32.const 2))))
        (i32.store (local.get $p) (i32.add (i32.load (local.get $p)) (i32.load (i32.sub (local.get $p) (i32.const 4)))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $sum)))
    (local.set $i (local.get $num))
    (block $done
      (loop $place
        (br_if $done (i32.eqz (local.get $i)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (local.set $p (i32.add (local.get $start) (i32.shl
          (i32.shr_u (i32.load (i32.add (local.get $hashes) (i32.shl (local.get $i) (i32.const 2)))) (local.get $shift))
          (i32.const 2))))
        (local.set $b (i32.sub (i32.load (local.get $p)) (i32.const 1)))
        (i32.store (local.get $p) (local.get $b))
        (i32.store (i32.add (local.get $order) (i32.shl (local.get $b) (i32.const 2))) (local.get $i))
        (br $place))))
  ;; kallsyms' addresses from its 32-bit table at $raw: $base + offset (the relative encoding), or
  ;; for the absolute-percpu one ($percpu 1) a non-negative entry itself and a negative entry o
  ;; $base + (-1 - o); $num u64 at $out.
  (func (export "ks_addresses") (param $raw i32) (param $num i32) (param $base i64) (param $percpu i32) (param $out i32)
    (local $i i32) (local $o i32) (local $v i64)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $num)))
        (local.set $o (i32.load (i32.add (local.get $raw) (i32.shl (local.get $i) (i32.const 2)))))
        (if (local.get $percpu)
          (then
            (if (i32.ge_s (local.get $o) (i32.const 0))
              (then (local.set $v (i64.extend_i32_u (local.get $o))))
              (else (local.set $v (i64.add (local.get $base) (i64.extend_i32_u (i32.sub (i32.const -1) (local.get $o))))))))
          (else (local.set $v (i64.add (local.get $base) (i64.extend_i32_u (local.get $o))))))
        (i64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 3))) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; 1 when the $n u64 at $p are in ascending order, else 0.
  (func (export "u64_sorted") (param $p i32) (param $n i32) (result i32)
    (local $i i32) (local $prev i64) (local $v i64)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
    (local.set $prev (i64.load (local.get $p)))
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (i64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))))
        (if (i64.lt_u (local.get $v) (local.get $prev)) (then (return (i32.const 0))))
        (local.set $prev (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 1))

  ;; Of the $n u64 at $p, the index of the first smallest and of the first largest at or above
  ;; $min (i32 at $out and $out + 4; -1 when none is).
  (func (export "u64_range") (param $p i32) (param $n i32) (param $min i64) (param $out i32)
    (local $i i32) (local $lo i32) (local $hi i32) (local $v i64) (local $vlo i64) (local $vhi i64)
    (local.set $lo (i32.const -1))
    (local.set $hi (i32.const -1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (i64.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 3)))))
        (if (i64.ge_u (local.get $v) (local.get $min))
          (then
            (if (i32.or (i32.lt_s (local.get $lo) (i32.const 0)) (i64.lt_u (local.get $v) (local.get $vlo)))
              (then (local.set $lo (local.get $i)) (local.set $vlo (local.get $v))))
            (if (i32.or (i32.lt_s (local.get $hi) (i32.const 0)) (i64.gt_u (local.get $v) (local.get $vhi)))
              (then (local.set $hi (local.get $i)) (local.set $vhi (local.get $v))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (local.get $out) (local.get $lo))
    (i32.store offset=4 (local.get $out) (local.get $hi)))
)
