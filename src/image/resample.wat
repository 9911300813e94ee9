;; Pillow's bicubic resample passes (see resample.ts) in WebAssembly SIMD, integer for integer:
;; int32 products of 8-bit samples and 22-bit fixed-point weights, summed from 1 << 21, shifted right
;; by 22 and saturated to 0..255 (the two saturating narrows are Pillow's clip8).
;; Compiled into resample-wasm.ts by `npm run build:wasm` (scripts/build-wasm.mjs).
;; Buffers need 16 bytes of slack past their end: loads and stores run over by up to 15 bytes.
(module
  (memory (export "memory") 1)
  ;; Horizontal pass: `rows` rows of `outWidth` RGB pixels. Output pixel x sums counts[x] taps, the
  ;; first at byte firstBytes[x] of the input row, 3 bytes apart, weights at weights + x * taps * 4.
  ;; Each pixel is stored as 4 bytes, the 4th overwritten by the next pixel.
  (func (export "horizontal")
    (param $src i32) (param $srcRowBytes i32) (param $rows i32) (param $outWidth i32)
    (param $firstBytes i32) (param $counts i32) (param $weights i32) (param $taps i32) (param $out i32)
    (local $y i32) (local $x i32) (local $row i32) (local $p i32) (local $wp i32) (local $n i32)
    (local $acc v128) (local $tapBytes i32)
    (local.set $tapBytes (i32.shl (local.get $taps) (i32.const 2)))
    (local.set $row (local.get $src))
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $rows)))
      (local.set $x (i32.const 0))
      (block $xDone (loop $xs
        (br_if $xDone (i32.ge_u (local.get $x) (local.get $outWidth)))
        (local.set $acc (v128.const i32x4 2097152 2097152 2097152 2097152))
        (local.set $p (i32.add (local.get $row) (i32.load (i32.add (local.get $firstBytes) (i32.shl (local.get $x) (i32.const 2))))))
        (local.set $wp (i32.add (local.get $weights) (i32.mul (local.get $x) (local.get $tapBytes))))
        (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $x) (i32.const 2)))))
        (block $tapsDone (loop $tapsLoop
          (br_if $tapsDone (i32.eqz (local.get $n)))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.mul
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
              (i32x4.splat (i32.load (local.get $wp))))))
          (local.set $p (i32.add (local.get $p) (i32.const 3)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $tapsLoop)))
        (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
        (local.set $acc (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)))
        (local.set $acc (i8x16.narrow_i16x8_u (local.get $acc) (local.get $acc)))
        (i32.store (local.get $out) (i32x4.extract_lane 0 (local.get $acc)))
        (local.set $out (i32.add (local.get $out) (i32.const 3)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $xs)))
      (local.set $row (i32.add (local.get $row) (local.get $srcRowBytes)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows))))
  ;; Vertical pass: `outHeight` rows of `rowBytes` bytes, 16 bytes at a time. Output row y sums counts[y]
  ;; input rows from firstRows[y]. The last block of a row runs into the next one, written after it.
  (func (export "vertical")
    (param $src i32) (param $rowBytes i32) (param $outHeight i32)
    (param $firstRows i32) (param $counts i32) (param $weights i32) (param $taps i32) (param $out i32)
    (local $y i32) (local $i i32) (local $base i32) (local $wbase i32) (local $p i32) (local $wp i32) (local $n i32) (local $k i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $v v128) (local $lo v128) (local $hi v128) (local $w v128)
    (local $orow i32)
    (block $rowsDone (loop $rows
      (br_if $rowsDone (i32.ge_u (local.get $y) (local.get $outHeight)))
      (local.set $base (i32.add (local.get $src) (i32.mul (i32.load (i32.add (local.get $firstRows) (i32.shl (local.get $y) (i32.const 2)))) (local.get $rowBytes))))
      (local.set $wbase (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $y) (local.get $taps)) (i32.const 2))))
      (local.set $n (i32.load (i32.add (local.get $counts) (i32.shl (local.get $y) (i32.const 2)))))
      (local.set $orow (i32.add (local.get $out) (i32.mul (local.get $y) (local.get $rowBytes))))
      (local.set $i (i32.const 0))
      (block $colsDone (loop $cols
        (br_if $colsDone (i32.ge_u (local.get $i) (local.get $rowBytes)))
        (local.set $a0 (v128.const i32x4 2097152 2097152 2097152 2097152))
        (local.set $a1 (local.get $a0)) (local.set $a2 (local.get $a0)) (local.set $a3 (local.get $a0))
        (local.set $p (i32.add (local.get $base) (local.get $i)))
        (local.set $wp (local.get $wbase))
        (local.set $k (local.get $n))
        (block $tapsDone (loop $tapsLoop
          (br_if $tapsDone (i32.eqz (local.get $k)))
          (local.set $v (v128.load (local.get $p)))
          (local.set $w (i32x4.splat (i32.load (local.get $wp))))
          (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
          (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $w))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $w))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $w))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $w))))
          (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
          (local.set $wp (i32.add (local.get $wp) (i32.const 4)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br $tapsLoop)))
        (v128.store (i32.add (local.get $orow) (local.get $i))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $cols)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $rows))))
)
