;; Root "meet-iface" (not in the registry).
;;
;; Same computation as meet.wat, but both dependencies are INTERFACE imports
;; (no external-id), resolved by default to the registry package that
;; exports the interface on the same track:
;;   test:inc/api@1.0.0   -> test:inc 1.0.0   uses first(x)
;;   test:five/api@1.0.0  -> test:five 1.0.0  uses second(x)  (not 1.1.0-rc.1)
;;
;; Exports full(a, b) -> u32 = first(a) + second(b) = (a + 2) + (b + 5)
;; full(1, 2) == 10.
(component
  (import "test:inc/api@1.0.0"
    (instance $inc (export "first" (func (param "x" u32) (result u32)))))
  (import "test:five/api@1.0.0"
    (instance $five (export "second" (func (param "x" u32) (result u32)))))
  (core func $first (canon lower (func $inc "first")))
  (core func $second (canon lower (func $five "second")))
  (core module $m
    (import "deps" "first" (func $first (param i32) (result i32)))
    (import "deps" "second" (func $second (param i32) (result i32)))
    (func (export "full") (param i32 i32) (result i32)
      (i32.add (call $first (local.get 0)) (call $second (local.get 1)))))
  (core instance $i (instantiate $m
    (with "deps" (instance
      (export "first" (func $first))
      (export "second" (func $second))))))
  (func $full (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "full")))
  (export "full" (func $full))
)
