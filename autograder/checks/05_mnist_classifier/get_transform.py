"""The hidden checks of get_transform."""
import pytest
import torch

from autograder.check import StudentRaised, a_class, expect_tensor, fail, graded, reraise_with_hint

IMAGES = {"black": torch.zeros(28, 28, dtype=torch.uint8), "white": torch.full((28, 28), 255, dtype=torch.uint8),
          "random": torch.randint(0, 256, (28, 28), generator=torch.Generator().manual_seed(500), dtype=torch.uint8)}


@pytest.fixture(scope="module")
def transformed(student) -> dict:
    """get_transform() applied to PIL images of IMAGES, and its steps."""
    try:
        data = student.probe("transform_run", "get_transform", images=list(IMAGES.values()))
    except StudentRaised as exc:
        hint = ("transforms run left to right: ToTensor() must come first, then Normalize, which works on float "
                "tensors" if exc.exc_type in ("TypeError", "AttributeError") else "")
        reraise_with_hint(exc, hint)
    if not data["callable"]:
        fail(f"get_transform() returned {a_class(data['class'])}, expected a transform (a callable such as "
             "transforms.Compose([...]))")
    data["by_image"] = dict(zip(IMAGES, data["outputs"]))
    return data


def normalize_constants(data: dict) -> tuple[float, float, bool]:
    """(mean, std, from_normalize): the student's own Normalize's, or, without one, what the outputs imply."""
    steps = [s for s in data["steps"] if s["class"] == "Normalize"]
    if len(steps) > 1:
        fail(f"the transform has {len(steps)} Normalize steps: normalize once, after ToTensor")
    if steps and steps[0]["mean"] and steps[0]["std"]:
        means, stds = set(steps[0]["mean"]), set(steps[0]["std"])
        if len(means) == 1 and len(stds) == 1:
            return means.pop(), stds.pop(), True
    black, white = (data["by_image"][k].double().mean().item() for k in ("black", "white"))
    if not white > black:
        fail("a white image does not map to larger values than a black one: ToTensor scales pixels 0..255 to "
             "[0, 1], and Normalize with a positive std keeps their order")
    std = 1.0 / (white - black)
    return -black * std, std, False


@graded("get_transform")
def test_transform_shape(transformed):
    """maps a 28 x 28 PIL digit to a float32 tensor of shape (1, 28, 28)"""
    for key, output in transformed["by_image"].items():
        expect_tensor(output, (1, 28, 28), what=f"the transform's output for a {key} 28 x 28 image",
                      hint="transforms.ToTensor() gives (channels, height, width) = (1, 28, 28) for a grey image")


@graded("get_transform")
def test_transform_values(transformed):
    """computes (pixel / 255 - mean) / std: ToTensor's scaling to [0, 1], then Normalize"""
    for output in transformed["by_image"].values():
        expect_tensor(output, (1, 28, 28))
    mean, std, from_normalize = normalize_constants(transformed)
    source = "your Normalize's mean and std" if from_normalize else "one mean and std for every pixel"
    for key, image in IMAGES.items():
        expected = ((image.double() / 255 - mean) / std).float().unsqueeze(0)
        value = transformed["by_image"][key]
        if not torch.allclose(value, expected, rtol=1e-4, atol=1e-5):
            fail(f"the output for a {key} image is not (pixel / 255 - mean) / std with {source}: compose exactly "
                 "transforms.ToTensor() then transforms.Normalize(mean, std), with nothing else changing the values")


@graded("get_transform")
def test_transform_positive_mean(transformed):
    """normalizes with a positive mean of [0, 1]-scaled pixels and a positive std"""
    for output in transformed["by_image"].values():
        expect_tensor(output, (1, 28, 28))
    mean, std, from_normalize = normalize_constants(transformed)
    if not from_normalize and abs(mean) < 1e-6 and abs(std - 1) < 1e-6:
        fail("the pixels are scaled to [0, 1] but not normalized: add transforms.Normalize(mean, std) after "
             "ToTensor, with the mean and standard deviation of MNIST's pixels")
    if not std > 0:
        fail(f"the std is {std:.4g}: it must be positive (the standard deviation of the pixels)")
    if not mean > 0:
        fail(f"the mean is {mean:.4g}, not positive: pass the mean pixel value itself (Normalize subtracts it); "
             "a black pixel should map below 0")
    if not mean < 1:
        fail(f"the mean is {mean:.4g}, but ToTensor has already scaled the pixels to [0, 1]: give the mean and std "
             "on that scale, not on 0..255")
