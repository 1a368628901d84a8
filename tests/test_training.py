"""The data path on which the grader trains a student's model (harness/training.py)."""
import torch
from PIL import Image
from torchvision import transforms

from autograder.harness.training import MEAN, STD, normalise, shuffled_batches


def test_normalise_is_totensor_then_normalize_bit_for_bit():
    images = torch.randint(0, 256, (64, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    images[0] = torch.arange(256, dtype=torch.uint8).repeat(4)[:784].view(28, 28)  # every grey level
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    expected = torch.stack([transform(Image.fromarray(image.numpy())) for image in images])
    got = normalise(images)
    assert got.dtype == torch.float32 and got.shape == (64, 1, 28, 28) and got.is_contiguous()
    assert torch.equal(got, expected)
    assert images.dtype == torch.uint8 and int(images[0, 0, 1]) == 1  # the input is left as it was


def test_the_loader_draws_every_image_once_an_epoch_in_a_new_order():
    images, labels = torch.arange(10.0).view(10, 1), torch.arange(10)
    loader = shuffled_batches(images, labels, batch_size=4, seed=0)
    epochs = [[(x.clone(), y.clone()) for x, y in loader] for _ in range(2)]
    assert len(loader) == 3 and [len(y) for _, y in epochs[0]] == [4, 4, 2]
    orders = [torch.cat([y for _, y in epoch]) for epoch in epochs]
    for order, epoch in zip(orders, epochs):
        assert sorted(order.tolist()) == list(range(10))
        assert all(torch.equal(x.view(-1), y.float()) for x, y in epoch)  # images stay with their labels
    assert not torch.equal(orders[0], orders[1])
    assert torch.equal(orders[0], torch.cat([y for _, y in shuffled_batches(images, labels, 4, seed=0)]))
