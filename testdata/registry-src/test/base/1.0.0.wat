;; test:base@1.0.0
;;
;; Exports base(x) -> u32 = x + 100, both as the plain top-level func
;; `base` and inside the interface instance `test:base/api@1.0.0`.
;; No imports. (Each version adds a different constant so a test can tell
;; which version was wired: base(1) == 101.)
(component
  (core module $m
    (func (export "base") (param i32) (result i32)
      (i32.add (local.get 0) (i32.const 100))))
  (core instance $i (instantiate $m))
  (func $base (param "x" u32) (result u32)
    (canon lift (core func $i "base")))
  (export "base" (func $base))
  (instance $api (export "base" (func $base)))
  (export "test:base/api@1.0.0" (instance $api))
)
