"""Hand-made checks of the COCO AP implementation (run: training/run test)."""
import os, sys, unittest
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from mqdet.coco_eval import evaluate, summarize, iou_xywh


class CocoApTest(unittest.TestCase):
    def test_iou(self):
        self.assertAlmostEqual(iou_xywh([0, 0, 10, 10], [5, 0, 10, 10])[0, 0], 50 / 150)

    def test_perfect(self):
        gts = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10])]
        dets = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10], score=0.9)]
        ap, ap50 = summarize(evaluate(gts, dets, [1]), [1])
        self.assertAlmostEqual(ap, 100.0); self.assertAlmostEqual(ap50, 100.0)

    def test_hand_case(self):
        # 2 GT in two images; detections by score: TP (img1), FP (img2, wrong place), TP (img2).
        gts = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10]),
               dict(image_id=2, category_id=1, bbox=[20, 20, 10, 10])]
        dets = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10], score=0.9),
                dict(image_id=2, category_id=1, bbox=[50, 50, 10, 10], score=0.8),
                dict(image_id=2, category_id=1, bbox=[20, 20, 10, 10], score=0.7)]
        # recall/precision: (0.5,1), (0.5,.5), (1,2/3) -> envelope 1 up to r=.5, 2/3 after.
        # 101 points: r in [0,.5] -> 51 points of 1.0; r in (.5,1] -> 50 points of 2/3
        expect = (51 * 1.0 + 50 * 2 / 3) / 101
        res = evaluate(gts, dets, [1])
        np.testing.assert_allclose(res[1], expect, atol=1e-6)

    def test_iou_thresholds_and_duplicates(self):
        # a box with IoU 0.58 counts at thresholds .50 and .55 only; the duplicate is an FP.
        gts = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10])]
        dets = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 5.8], score=0.9),
                dict(image_id=1, category_id=1, bbox=[0, 0, 10, 5.8], score=0.8)]
        res = evaluate(gts, dets, [1])[1]
        np.testing.assert_allclose(res, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0], atol=1e-9)
        ap, ap50 = summarize({1: res}, [1])
        self.assertAlmostEqual(ap, 20.0); self.assertAlmostEqual(ap50, 100.0)

    def test_missed_category_and_no_gt(self):
        gts = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10]),
               dict(image_id=1, category_id=2, bbox=[0, 0, 10, 10])]
        dets = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10], score=0.5),
                dict(image_id=1, category_id=3, bbox=[0, 0, 10, 10], score=0.5)]
        res = evaluate(gts, dets, [1, 2, 3])
        self.assertNotIn(3, res)  # no ground truth -> skipped
        ap, ap50 = summarize(res, [1, 2, 3])
        self.assertAlmostEqual(ap50, 50.0)

    def test_max_dets(self):
        gts = [dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10])]
        dets = [dict(image_id=1, category_id=1, bbox=[100, 100, 10, 10], score=1.0 - i * 1e-3) for i in range(100)]
        dets.append(dict(image_id=1, category_id=1, bbox=[0, 0, 10, 10], score=0.01))
        self.assertAlmostEqual(summarize(evaluate(gts, dets, [1]), [1])[1], 0.0)
        self.assertAlmostEqual(summarize(evaluate(gts, dets, [1], max_dets=101), [1])[1], 100.0 / 101, places=6)


if __name__ == "__main__":
    unittest.main()
