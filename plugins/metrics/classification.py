"""Classification metrics: per-epoch accuracy and error rate, final per-class accuracy."""
from fastai.metrics import accuracy, error_rate

from fashionseg.plugin import ConfusionCounts


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



def accuracy_metric():
    return accuracy


def error_rate_metric():
    return error_rate
