;; LZO1X decompression as WebAssembly: the same steps, checks and errors as lzo.ts's
;; lzo1xDecompress (which documents the stream format), for speed from the first page: the
;; JavaScript decoder runs in V8's interpreter and baseline tiers for most of a command's pages.
;; lzo-wasm-bytes.ts holds the assembled bytes (scripts/build-wasm.mjs, checked by workers/wasm-bytes.test.ts).
;;
;; decode(inLen, out, maxOut): the stream is memory[0, inLen); the output goes to memory[out, out +
;; maxOut). Returns the number of bytes written, or an error code with $eip / $eop / $edist set:
;;   -1 empty input, -2 input overrun, -3 output overrun, -4 back-reference $edist before the start
;;   of the output, -5 input not consumed after the end marker.
(module
  (memory (export "memory") 1)
  (global $eip (export "eip") (mut i32) (i32.const 0))
  (global $eop (export "eop") (mut i32) (i32.const 0))
  (global $edist (export "edist") (mut i32) (i32.const 0))

  (func $fail (param $code i32) (param $ip i32) (param $op i32) (param $dist i32) (result i32)
    (global.set $eip (local.get $ip))
    (global.set $eop (local.get $op))
    (global.set $edist (local.get $dist))
    (local.get $code))

  ;; copy n bytes one at a time (overlapping back-references repeat their pattern)
  (func $copyBytes (param $to i32) (param $from i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $to) (i32.load8_u (local.get $from)))
        (local.set $to (i32.add (local.get $to) (i32.const 1)))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))

  ;; copy n bytes 8 at a time when the source is at least 8 bytes behind the destination (or
  ;; elsewhere): it may write up to 7 bytes past to + n, into output not yet written or the slack
  ;; the caller leaves after the output; else one at a time
  (func $copy (param $to i32) (param $from i32) (param $n i32)
    (if (i32.lt_u (i32.sub (local.get $to) (local.get $from)) (i32.const 8))
      (then (call $copyBytes (local.get $to) (local.get $from) (local.get $n)) (return)))
    (block $done
      (loop $next
        (br_if $done (i32.le_s (local.get $n) (i32.const 0)))
        (i64.store (local.get $to) (i64.load (local.get $from)))
        (local.set $to (i32.add (local.get $to) (i32.const 8)))
        (local.set $from (i32.add (local.get $from) (i32.const 8)))
        (local.set $n (i32.sub (local.get $n) (i32.const 8)))
        (br $next))))

  (func (export "decode") (param $inLen i32) (param $out i32) (param $maxOut i32) (result i32)
    (local $ip i32) (local $op i32) (local $t i32) (local $state i32)
    (local $dist i32) (local $len i32) (local $e i32)
    ;; state: 0 Loop, 1 FirstLiteralRun, 2 Match, 3 MatchNext (lzo.ts's State)
    (if (i32.eqz (local.get $inLen))
      (then (return (call $fail (i32.const -1) (i32.const 0) (i32.const 0) (i32.const 0)))))
    (if (i32.gt_u (i32.load8_u (i32.const 0)) (i32.const 17))
      (then
        (local.set $t (i32.sub (i32.load8_u (i32.const 0)) (i32.const 17)))
        (local.set $ip (i32.const 1))
        (if (i32.lt_u (local.get $t) (i32.const 4))
          (then (local.set $state (i32.const 3)))
          (else
            (if (i32.lt_s (i32.sub (local.get $inLen) (local.get $ip)) (local.get $t))
              (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
            (if (i32.lt_s (i32.sub (local.get $maxOut) (local.get $op)) (local.get $t))
              (then (return (call $fail (i32.const -3) (local.get $ip) (local.get $op) (i32.const 0)))))
            (call $copy (i32.add (local.get $out) (local.get $op)) (local.get $ip) (local.get $t))
            (local.set $ip (i32.add (local.get $ip) (local.get $t)))
            (local.set $op (i32.add (local.get $op) (local.get $t)))
            (local.set $state (i32.const 1))))))

    (loop $main
      (block $match
        (block $matchNext
          ;; Loop / FirstLiteralRun
          (br_if $matchNext (i32.eq (local.get $state) (i32.const 3)))
          (br_if $match (i32.eq (local.get $state) (i32.const 2)))
          (if (i32.ge_s (local.get $ip) (local.get $inLen))
            (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
          (local.set $t (i32.load8_u (local.get $ip)))
          (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
          (br_if $match (i32.ge_u (local.get $t) (i32.const 16)))
          (if (i32.eqz (local.get $state))
            (then
              ;; a literal run of t + 3 bytes (t = 0: the long form)
              (if (i32.eqz (local.get $t))
                (then
                  (local.set $e (local.get $ip))
                  (block $end
                    (loop $zeros
                      (br_if $end (i32.ge_s (local.get $e) (local.get $inLen)))
                      (br_if $end (i32.load8_u (local.get $e)))
                      (local.set $e (i32.add (local.get $e) (i32.const 1)))
                      (br $zeros)))
                  (if (i32.ge_s (local.get $e) (local.get $inLen))
                    (then (return (call $fail (i32.const -2) (local.get $e) (local.get $op) (i32.const 0)))))
                  (local.set $t (i32.add (i32.add (i32.const 15)
                    (i32.mul (i32.const 255) (i32.sub (local.get $e) (local.get $ip))))
                    (i32.load8_u (local.get $e))))
                  (local.set $ip (i32.add (local.get $e) (i32.const 1)))))
              (local.set $len (i32.add (local.get $t) (i32.const 3)))
              (if (i32.lt_s (i32.sub (local.get $inLen) (local.get $ip)) (local.get $len))
                (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
              (if (i32.lt_s (i32.sub (local.get $maxOut) (local.get $op)) (local.get $len))
                (then (return (call $fail (i32.const -3) (local.get $ip) (local.get $op) (i32.const 0)))))
              (call $copy (i32.add (local.get $out) (local.get $op)) (local.get $ip) (local.get $len))
              (local.set $ip (i32.add (local.get $ip) (local.get $len)))
              (local.set $op (i32.add (local.get $op) (local.get $len)))
              (local.set $state (i32.const 1))
              (br $main)))
          ;; right after a literal run: a 3-byte match at distance 0x801 + (t >> 2) + (next << 2)
          (if (i32.ge_s (local.get $ip) (local.get $inLen))
            (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
          (local.set $dist (i32.add (i32.add (i32.const 0x801) (i32.shr_u (local.get $t) (i32.const 2)))
            (i32.shl (i32.load8_u (local.get $ip)) (i32.const 2))))
          (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
          (if (i32.gt_s (local.get $dist) (local.get $op))
            (then (return (call $fail (i32.const -4) (local.get $ip) (local.get $op) (local.get $dist)))))
          (if (i32.lt_s (i32.sub (local.get $maxOut) (local.get $op)) (i32.const 3))
            (then (return (call $fail (i32.const -3) (local.get $ip) (local.get $op) (i32.const 0)))))
          (call $copy (i32.add (local.get $out) (local.get $op))
            (i32.add (local.get $out) (i32.sub (local.get $op) (local.get $dist))) (i32.const 3))
          (local.set $op (i32.add (local.get $op) (i32.const 3)))
          (local.set $t (i32.and (i32.load8_u (i32.sub (local.get $ip) (i32.const 2))) (i32.const 3)))
          (local.set $state (select (i32.const 0) (i32.const 3) (i32.eqz (local.get $t))))
          (br $main))
        ;; MatchNext: 1..3 literals after a match, then an instruction
        (if (i32.lt_s (i32.sub (local.get $inLen) (local.get $ip)) (local.get $t))
          (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
        (if (i32.lt_s (i32.sub (local.get $maxOut) (local.get $op)) (local.get $t))
          (then (return (call $fail (i32.const -3) (local.get $ip) (local.get $op) (i32.const 0)))))
        (call $copy (i32.add (local.get $out) (local.get $op)) (local.get $ip) (local.get $t))
        (local.set $ip (i32.add (local.get $ip) (local.get $t)))
        (local.set $op (i32.add (local.get $op) (local.get $t)))
        (if (i32.ge_s (local.get $ip) (local.get $inLen))
          (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
        (local.set $t (i32.load8_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1))))

      ;; Match: dispatch on t
      (if (i32.ge_u (local.get $t) (i32.const 64))
        (then
          ;; M2
          (if (i32.ge_s (local.get $ip) (local.get $inLen))
            (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
          (local.set $dist (i32.add (i32.add (i32.const 1) (i32.and (i32.shr_u (local.get $t) (i32.const 2)) (i32.const 7)))
            (i32.shl (i32.load8_u (local.get $ip)) (i32.const 3))))
          (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
          (local.set $len (i32.add (i32.shr_u (local.get $t) (i32.const 5)) (i32.const 1))))
        (else (if (i32.ge_u (local.get $t) (i32.const 32))
          (then
            ;; M3
            (local.set $len (i32.and (local.get $t) (i32.const 31)))
            (if (i32.eqz (local.get $len))
              (then
                (local.set $e (local.get $ip))
                (block $end
                  (loop $zeros
                    (br_if $end (i32.ge_s (local.get $e) (local.get $inLen)))
                    (br_if $end (i32.load8_u (local.get $e)))
                    (local.set $e (i32.add (local.get $e) (i32.const 1)))
                    (br $zeros)))
                (if (i32.ge_s (local.get $e) (local.get $inLen))
                  (then (return (call $fail (i32.const -2) (local.get $e) (local.get $op) (i32.const 0)))))
                (local.set $len (i32.add (i32.add (i32.const 31)
                  (i32.mul (i32.const 255) (i32.sub (local.get $e) (local.get $ip))))
                  (i32.load8_u (local.get $e))))
                (local.set $ip (i32.add (local.get $e) (i32.const 1)))))
            (if (i32.lt_s (i32.sub (local.get $inLen) (local.get $ip)) (i32.const 2))
              (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
            (local.set $dist (i32.add (i32.const 1) (i32.shr_u (i32.load16_u (local.get $ip)) (i32.const 2))))
            (local.set $ip (i32.add (local.get $ip) (i32.const 2)))
            (local.set $len (i32.add (local.get $len) (i32.const 2))))
          (else (if (i32.ge_u (local.get $t) (i32.const 16))
            (then
              ;; M4, or the end of the stream
              (local.set $dist (i32.shl (i32.and (local.get $t) (i32.const 8)) (i32.const 11)))
              (local.set $len (i32.and (local.get $t) (i32.const 7)))
              (if (i32.eqz (local.get $len))
                (then
                  (local.set $e (local.get $ip))
                  (block $end
                    (loop $zeros
                      (br_if $end (i32.ge_s (local.get $e) (local.get $inLen)))
                      (br_if $end (i32.load8_u (local.get $e)))
                      (local.set $e (i32.add (local.get $e) (i32.const 1)))
                      (br $zeros)))
                  (if (i32.ge_s (local.get $e) (local.get $inLen))
                    (then (return (call $fail (i32.const -2) (local.get $e) (local.get $op) (i32.const 0)))))
                  (local.set $len (i32.add (i32.add (i32.const 7)
                    (i32.mul (i32.const 255) (i32.sub (local.get $e) (local.get $ip))))
                    (i32.load8_u (local.get $e))))
                  (local.set $ip (i32.add (local.get $e) (i32.const 1)))))
              (if (i32.lt_s (i32.sub (local.get $inLen) (local.get $ip)) (i32.const 2))
                (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
              (local.set $dist (i32.add (local.get $dist) (i32.shr_u (i32.load16_u (local.get $ip)) (i32.const 2))))
              (local.set $ip (i32.add (local.get $ip) (i32.const 2)))
              (if (i32.eqz (local.get $dist))
                (then
                  (if (i32.ne (local.get $ip) (local.get $inLen))
                    (then (return (call $fail (i32.const -5) (local.get $ip) (local.get $op) (i32.const 0)))))
                  (return (local.get $op))))
              (local.set $dist (i32.add (local.get $dist) (i32.const 0x4000)))
              (local.set $len (i32.add (local.get $len) (i32.const 2))))
            (else
              ;; M1 after a match's trailing literals: 2 bytes
              (if (i32.ge_s (local.get $ip) (local.get $inLen))
                (then (return (call $fail (i32.const -2) (local.get $ip) (local.get $op) (i32.const 0)))))
              (local.set $dist (i32.add (i32.add (i32.const 1) (i32.shr_u (local.get $t) (i32.const 2)))
                (i32.shl (i32.load8_u (local.get $ip)) (i32.const 2))))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $len (i32.const 2))))))))
      (if (i32.gt_s (local.get $dist) (local.get $op))
        (then (return (call $fail (i32.const -4) (local.get $ip) (local.get $op) (local.get $dist)))))
      (if (i32.lt_s (i32.sub (local.get $maxOut) (local.get $op)) (local.get $len))
        (then (return (call $fail (i32.const -3) (local.get $ip) (local.get $op) (i32.const 0)))))
      (call $copy (i32.add (local.get $out) (local.get $op))
        (i32.add (local.get $out) (i32.sub (local.get $op) (local.get $dist))) (local.get $len))
      (local.set $op (i32.add (local.get $op) (local.get $len)))
      (local.set $t (i32.and (i32.load8_u (i32.sub (local.get $ip) (i32.const 2))) (i32.const 3)))
      (local.set $state (select (i32.const 0) (i32.const 3) (i32.eqz (local.get $t))))
      (br $main))
    (unreachable)))
