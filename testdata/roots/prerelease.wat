;; Root "prerelease" (not in the registry): opting into a pre-release.
;;
;; Imports
;;   five (external-id "unlocked-dep=<test:five@{>=1.1.0-rc.1}>")  DECLARED dependency,
;;   uses second(x). The range names a pre-release, so test:five 1.1.0-rc.1 is
;;   eligible and, being the highest, is chosen; it imports test:add/api@1.0.0,
;;   which resolves to test:add 1.1.0.
;;
;; Exports second-of(x) -> u32 = second(x) = x + 50 (rc.1 adds 50; 1.0.0 adds 5).
;; second-of(1) == 51.   (With 1.0.0 wrongly picked: 6.)
(component
  (import "five" (external-id "unlocked-dep=<test:five@{>=1.1.0-rc.1}>")
    (instance $five (export "second" (func (param "x" u32) (result u32)))))
  (core func $second (canon lower (func $five "second")))
  (core module $m
    (import "deps" "second" (func $second (param i32) (result i32)))
    (func (export "second-of") (param i32) (result i32)
      (call $second (local.get 0))))
  (core instance $i (instantiate $m
    (with "deps" (instance (export "second" (func $second))))))
  (func $second-of (param "x" u32) (result u32)
    (canon lift (core func $i "second-of")))
  (export "second-of" (func $second-of))
)
