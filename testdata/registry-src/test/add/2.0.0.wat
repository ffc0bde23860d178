;; test:add@2.0.0
;;
;; Exports add(left, right) -> u32 = left + right + 1000,
;; both as the plain top-level func `add` and inside the interface
;; instance `test:add/api@2.0.0`. No imports.
;; DELIBERATELY DIFFERENT from the 1.x track (which computes left + right):
;; 2.0.0 is a second canonical track of test:add, and the +1000 lets a test
;; tell by value which track an import was wired to (add(1, 2) == 1003).
(component
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (i32.add (local.get 0) (local.get 1)) (i32.const 1000))))
  (core instance $i (instantiate $m))
  (func $add (param "left" u32) (param "right" u32) (result u32)
    (canon lift (core func $i "add")))
  (export "add" (func $add))
  (instance $api (export "add" (func $add)))
  (export "test:add/api@2.0.0" (instance $api))
)
