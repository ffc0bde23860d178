;; test:add@1.1.0
;;
;; Exports add(left, right) -> u32 = left + right,
;; both as the plain top-level func `add` and inside the interface
;; instance `test:add/api@1.1.0`. No imports.
(component
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1))))
  (core instance $i (instantiate $m))
  (func $add (param "left" u32) (param "right" u32) (result u32)
    (canon lift (core func $i "add")))
  (export "add" (func $add))
  (instance $api (export "add" (func $add)))
  (export "test:add/api@1.1.0" (instance $api))
)
