"""Plugin `metrics`: the built-in metrics. Epoch metrics are fastai metrics shown every epoch;
final metrics are evaluators computed once over the whole test set."""
from fashionseg.plugin import Metric, hookimpl

HERE = __name__


@hookimpl
def fashionseg_metrics():
    cls, seg, multi = "classification", "segmentation", "multi-label"
    return [
        Metric("accuracy", f"{HERE}.classification:accuracy_metric", cls,
               "Share of items whose top class is right."),
        Metric("error-rate", f"{HERE}.classification:error_rate_metric", cls, "1 - accuracy."),
        Metric("per-class-accuracy", f"{HERE}.classification:PerClassAccuracy", cls,
               "Accuracy over the test set, overall and for each class, plus the confusion counts.", stage="final"),
        Metric("pixel-accuracy", f"{HERE}.segmentation:pixel_accuracy_metric", seg,
               "Share of pixels whose top class is right."),
        Metric("dice", f"{HERE}.segmentation:DiceMulti", seg, "Dice coefficient averaged over classes."),
        Metric("per-class-ap", f"{HERE}.segmentation:PerClassAP", seg,
               "AP of each class's softmax score over all test pixels, one-vs-rest, and their mean.", stage="final"),
        Metric("per-class-iou", f"{HERE}.segmentation:PerClassIoU", seg,
               "Intersection over union of each class, their mean, and pixel accuracy, from pixel counts.",
               stage="final"),
        Metric("accuracy-multi", f"{HERE}.multi_label:accuracy_multi_metric", multi,
               "Share of (image, label) decisions that are right, each label's sigmoid over 0.5."),
        Metric("f1-multi", f"{HERE}.multi_label:f1_multi_metric", multi,
               "F1 of each label's decisions at 0.5, averaged over labels (macro)."),
        Metric("multi-label-scores", f"{HERE}.multi_label:MultiLabelScores", multi,
               "Mean average precision over labels, micro/macro F1, per-label precision, recall, F1 and AP at "
               "the run's thresholds.", stage="final"),
    ]
