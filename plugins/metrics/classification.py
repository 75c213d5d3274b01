"""Classification metrics: per-epoch accuracy and error rate, final per-class accuracy."""
from fastai.metrics import accuracy, error_rate

from fashionseg import Metric, hookimpl
from fashionseg.evaluate import ConfusionCounts


class PerClassAccuracy(ConfusionCounts):
    """Accuracy over the test set, overall and for each class, plus the confusion counts."""

    def result(self, classes):
        cm = self.confusion
        per_class = (cm.diag().float() / cm.sum(1).clamp(min=1).float()).tolist()
        return {
            "accuracy": float(cm.diag().sum() / cm.sum().clamp(min=1)),
            "per_class_accuracy": dict(zip(classes, per_class)),
            "confusion_matrix": cm.tolist(),
        }


@hookimpl
def fashionseg_metrics():
    return [
        Metric("accuracy", lambda: accuracy, task="classification", description="Share of items whose top class is right."),
        Metric("error-rate", lambda: error_rate, task="classification", description="1 - accuracy."),
        Metric("per-class-accuracy", PerClassAccuracy, task="classification", stage="final"),
    ]
