from __future__ import annotations

import pytest
import torch

from spectrostyle.core.errors import ConfigMismatchError, InputError
from spectrostyle.core.spectrogram import SpectrogramConfig
from spectrostyle.nets.audio_cnn import AudioCNN, AudioCNNConfig, RandomSpectrumCNN, vgg_layer_names


@pytest.fixture(scope="module")
def cnn() -> AudioCNN:
    torch.manual_seed(0)
    return AudioCNN(AudioCNNConfig(class_names=("flute", "keyboard", "guitar"))).eval()


def test_vgg19_structure(cnn):
    convs = [m for m in cnn.modules() if isinstance(m, torch.nn.Conv2d)]
    pools = [m for m in cnn.modules() if isinstance(m, torch.nn.MaxPool2d)]
    assert len(convs) == 16 and len(pools) == 5
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert [c.out_channels for c in convs] == [8, 8, 16, 16] + [32] * 4 + [64] * 8  # width 1/8 of 64..512
    names = vgg_layer_names()
    assert names[:3] == ["conv1_1", "relu1_1", "conv1_2"] and "relu5_4" in names and names[-1] == "pool5"


def test_taps_shapes_and_logits(cnn):
    images = torch.rand(2, 1, 512, 64)
    taps = cnn.extract(images, ["conv1_1", "relu1_1", "relu3_1", "relu4_1", "relu5_4"])
    assert taps["relu1_1"].shape == (2, 8, 512, 64)
    assert taps["relu3_1"].shape == (2, 32, 128, 16)
    assert taps["relu4_1"].shape == (2, 64, 64, 8)
    assert taps["relu5_4"].shape == (2, 64, 32, 4)
    assert float(taps["relu1_1"].min().detach()) >= 0 and float(taps["conv1_1"].min().detach()) < 0
    torch.testing.assert_close(taps["relu1_1"], torch.relu(taps["conv1_1"]))
    assert cnn(images).shape == (2, 3)
    assert cnn.embed(images).shape == (2, cnn.embedding_size)


def test_extract_gradients_reach_the_image(cnn):
    images = torch.rand(1, 1, 512, 32, requires_grad=True)
    cnn.extract(images, ["relu2_1"])["relu2_1"].pow(2).sum().backward()
    assert images.grad is not None and float(images.grad.abs().sum()) > 0


def test_batch_equals_items(cnn):
    images = torch.rand(3, 1, 512, 32)
    batch = cnn.extract(images, ["relu3_2"])["relu3_2"]
    for i in range(3):
        torch.testing.assert_close(batch[i:i + 1], cnn.extract(images[i:i + 1], ["relu3_2"])["relu3_2"],
                                   atol=1e-5, rtol=1e-4)


def test_refuses_wrong_inputs(cnn):
    with pytest.raises(ConfigMismatchError, match="512 frequency rows"):
        cnn(torch.rand(1, 1, 256, 32))
    with pytest.raises(InputError, match=r"expects images of shape \(batch, 1, 512, frames\)"):
        cnn(torch.rand(1, 512, 32))
    with pytest.raises(InputError, match="unknown feature layers"):
        cnn.extract(torch.rand(1, 1, 512, 32), ["relu9_9"])


def test_width_and_batch_norm_options():
    wide = AudioCNN(AudioCNNConfig(width=0.25, batch_norm=False))
    assert wide.features["conv1_1"].out_channels == 16
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in wide.modules())
    small = AudioCNN(AudioCNNConfig(width=0.125))
    ratio = sum(p.numel() for p in wide.parameters()) / sum(p.numel() for p in small.parameters())
    assert 3.0 < ratio < 4.5


def test_config_roundtrip():
    config = AudioCNNConfig(class_names=("a", "b"), width=0.25, pitch_head=True,
                            spectrogram=SpectrogramConfig(db_floor=-60.0))
    rebuilt = AudioCNN.from_config(AudioCNN(config).config_dict())
    assert rebuilt.config == config
    family, pitch = rebuilt.eval().forward_with_pitch(torch.rand(1, 1, 512, 32))
    assert family.shape == (1, 2) and pitch.shape == (1, 128)


def test_random_spectrum_cnn_is_seeded_and_frozen():
    images = torch.rand(2, 1, 512, 40, requires_grad=True)
    first, again, other = RandomSpectrumCNN(filters=64, seed=1), RandomSpectrumCNN(filters=64, seed=1), \
        RandomSpectrumCNN(filters=64, seed=2)
    torch.testing.assert_close(first.conv.weight, again.conv.weight, atol=0, rtol=0)
    assert not torch.allclose(first.conv.weight, other.conv.weight)
    assert not any(p.requires_grad for p in first.parameters())
    relu = first.extract(images, ["relu"])["relu"]
    assert relu.shape == (2, 64, 40) and float(relu.detach().min()) >= 0
    relu.sum().backward()
    assert float(images.grad.abs().sum()) > 0
    rebuilt = RandomSpectrumCNN.from_config(first.config_dict())
    torch.testing.assert_close(rebuilt.conv.weight, first.conv.weight, atol=0, rtol=0)


def test_the_folded_copy_gives_the_same_taps_and_gradients():
    from spectrostyle.core.audio import load_audio
    from spectrostyle.core.spectrogram import Spectrogram
    from spectrostyle.data.examples import example_path
    from spectrostyle.store import load_named_model

    shipped = load_named_model("default", "audio_cnn")
    folded = shipped.folded()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.features.values())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in shipped.features.values())  # the network is untouched
    assert not any(p.requires_grad for p in folded.parameters())
    image = Spectrogram.from_audio(load_audio(example_path("keyboard", 60)), shipped.spectrogram).image[None, None]
    layers = ["relu1_1", "conv2_2", "relu3_1", "relu4_2"]

    def taps_and_gradient(network, images):
        images = images.clone().requires_grad_(True)
        taps = network.extract(images, layers)
        return taps, torch.autograd.grad(taps["relu4_2"].square().sum(), images)[0]

    (plain, gradient), (quick, folded_gradient) = (taps_and_gradient(n, image) for n in (shipped, folded))
    for layer in layers:
        torch.testing.assert_close(quick[layer], plain[layer], rtol=1e-4, atol=1e-5 * float(plain[layer].abs().max()))
    nudged_gradient = taps_and_gradient(shipped, image + 1e-7)[1]
    # a max pool routes a near-tie to one pixel or the other, so the gradients are as close as those of the same
    # network at the image moved by a rounding error
    off, rounding = (float((g - gradient).norm() / gradient.norm()) for g in (folded_gradient, nudged_gradient))
    assert off <= 3 * rounding + 1e-5
