;; The CPU backend's SIMD product panel (WebAssembly SIMD, f32x4): for one packed panel of 8 columns of
;; Bᵀ, every 4-row block of A:
;;
;;   C[i + r, c] = alpha · Σ_k A[i + r, k] · P[k, c]   (+ C[i + r, c] when beta = 1),  r < 4, c < 8
;;
;; A: m4 rows of k floats at `a` (m4 a multiple of 4); P: k rows of 8 floats at `p` (B's 8 rows, interleaved);
;; C: 8 floats per row at `c`, rows `ldc` bytes apart. Eight f32x4 sums (4 rows × 2 vectors) stay in
;; registers; each step of k loads the panel row once (two vectors) and splats one A value per row. Sums run
;; in f32 along k, in order, so an element's value does not depend on how the rows or panels are split.
;; gemm_simd.cpu.ts copies A, packs the panels and copies C back.
(module
  (memory (export "memory") 1)
  (func (export "panel")
    (param $m4 i32) (param $k i32) (param $a i32) (param $p i32) (param $c i32) (param $ldc i32)
    (param $alpha f32) (param $beta i32)
    (local $i i32) (local $kk i32) (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $pp i32) (local $cp i32) (local $row i32)
    (local $x v128) (local $b0 v128) (local $b1 v128) (local $al v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $s20 v128) (local $s21 v128) (local $s30 v128) (local $s31 v128)
    (local.set $al (f32x4.splat (local.get $alpha)))
    (local.set $row (i32.shl (local.get $k) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i) (local.get $m4)))
        (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $row))))
        (local.set $a1 (i32.add (local.get $a0) (local.get $row)))
        (local.set $a2 (i32.add (local.get $a1) (local.get $row)))
        (local.set $a3 (i32.add (local.get $a2) (local.get $row)))
        (local.set $s00 (v128.const i32x4 0 0 0 0)) (local.set $s01 (v128.const i32x4 0 0 0 0))
        (local.set $s10 (v128.const i32x4 0 0 0 0)) (local.set $s11 (v128.const i32x4 0 0 0 0))
        (local.set $s20 (v128.const i32x4 0 0 0 0)) (local.set $s21 (v128.const i32x4 0 0 0 0))
        (local.set $s30 (v128.const i32x4 0 0 0 0)) (local.set $s31 (v128.const i32x4 0 0 0 0))
        (local.set $pp (local.get $p))
        (local.set $kk (i32.const 0))
        (block $k_done
          (loop $ks
            (br_if $k_done (i32.ge_u (local.get $kk) (local.get $row)))
            (local.set $b0 (v128.load (local.get $pp)))
            (local.set $b1 (v128.load offset=16 (local.get $pp)))
            (local.set $x (v128.load32_splat (i32.add (local.get $a0) (local.get $kk))))
            (local.set $s00 (f32x4.add (local.get $s00) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s01 (f32x4.add (local.get $s01) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat (i32.add (local.get $a1) (local.get $kk))))
            (local.set $s10 (f32x4.add (local.get $s10) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s11 (f32x4.add (local.get $s11) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat (i32.add (local.get $a2) (local.get $kk))))
            (local.set $s20 (f32x4.add (local.get $s20) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s21 (f32x4.add (local.get $s21) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $x (v128.load32_splat (i32.add (local.get $a3) (local.get $kk))))
            (local.set $s30 (f32x4.add (local.get $s30) (f32x4.mul (local.get $x) (local.get $b0))))
            (local.set $s31 (f32x4.add (local.get $s31) (f32x4.mul (local.get $x) (local.get $b1))))
            (local.set $pp (i32.add (local.get $pp) (i32.const 32)))
            (local.set $kk (i32.add (local.get $kk) (i32.const 4)))
            (br $ks)))
        (local.set $cp (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (if (local.get $beta)
          (then
            (local.set $s00 (f32x4.add (f32x4.mul (local.get $al) (local.get $s00)) (v128.load (local.get $cp))))
            (local.set $s01 (f32x4.add (f32x4.mul (local.get $al) (local.get $s01)) (v128.load offset=16 (local.get $cp))))
            (local.set $s10 (f32x4.add (f32x4.mul (local.get $al) (local.get $s10)) (v128.load (i32.add (local.get $cp) (local.get $ldc)))))
            (local.set $s11 (f32x4.add (f32x4.mul (local.get $al) (local.get $s11)) (v128.load offset=16 (i32.add (local.get $cp) (local.get $ldc)))))
            (local.set $s20 (f32x4.add (f32x4.mul (local.get $al) (local.get $s20)) (v128.load (i32.add (local.get $cp) (i32.shl (local.get $ldc) (i32.const 1))))))
            (local.set $s21 (f32x4.add (f32x4.mul (local.get $al) (local.get $s21)) (v128.load offset=16 (i32.add (local.get $cp) (i32.shl (local.get $ldc) (i32.const 1))))))
            (local.set $s30 (f32x4.add (f32x4.mul (local.get $al) (local.get $s30)) (v128.load (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 3))))))
            (local.set $s31 (f32x4.add (f32x4.mul (local.get $al) (local.get $s31)) (v128.load offset=16 (i32.add (local.get $cp) (i32.mul (local.get $ldc) (i32.const 3)))))))
          (else
            (local.set $s00 (f32x4.mul (local.get $al) (local.get $s00)))
            (local.set $s01 (f32x4.mul (local.get $al) (local.get $s01)))
            (local.set $s10 (f32x4.mul (local.get $al) (local.get $s10)))
            (local.set $s11 (f32x4.mul (local.get $al) (local.get $s11)))
            (local.set $s20 (f32x4.mul (local.get $al) (local.get $s20)))
            (local.set $s21 (f32x4.mul (local.get $al) (local.get $s21)))
            (local.set $s30 (f32x4.mul (local.get $al) (local.get $s30)))
            (local.set $s31 (f32x4.mul (local.get $al) (local.get $s31)))))
        (v128.store (local.get $cp) (local.get $s00))
        (v128.store offset=16 (local.get $cp) (local.get $s01))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $s10))
        (v128.store offset=16 (local.get $cp) (local.get $s11))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $s20))
        (v128.store offset=16 (local.get $cp) (local.get $s21))
        (local.set $cp (i32.add (local.get $cp) (local.get $ldc)))
        (v128.store (local.get $cp) (local.get $s30))
        (v128.store offset=16 (local.get $cp) (local.get $s31))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rows)))))
