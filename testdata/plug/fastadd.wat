;; test:fastadd@1.0.0: another provider of the interface test:add/api
;; (on track 1.x, as test:add 1.2.0 would be), for `--plug` tests.
;;
;; Its add(left, right) is left + right + 100, so a bundle shows which
;; provider was plugged in: meet's full(1, 2) is 110 with it, 10 without.
(component
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (i32.add (local.get 0) (local.get 1)) (i32.const 100))))
  (core instance $i (instantiate $m))
  (func $add (param "left" u32) (param "right" u32) (result u32)
    (canon lift (core func $i "add")))
  (instance $api (export "add" (func $add)))
  (export "test:add/api@1.2.0" (instance $api))
)
