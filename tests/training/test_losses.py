"""Masked losses: unlabeled voxels never change the loss or the gradient on labeled voxels."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from napari_seisseg.training.losses import (
    SegmentationLoss,
    dice_schedule,
    lovasz_hinge,
    lovasz_softmax,
    masked_bce_dice,
    masked_ce_dice,
    region_term,
)


def _loss_and_grad(fn, logits, target, **kw):
    x = logits.clone().requires_grad_(True)
    loss = fn(x, target, **kw)
    loss.backward()
    return loss.detach(), x.grad


@pytest.mark.parametrize("dims", [(6, 7), (3, 4, 5)])
def test_ce_dice_ignores_unlabeled_voxels(dims):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, *dims, generator=g)
    target = torch.randint(0, 3, (2, *dims), generator=g)
    labeled = torch.rand(2, *dims, generator=g) < 0.4
    base_target = torch.where(labeled, target, torch.full_like(target, -1))
    loss0, grad0 = _loss_and_grad(
        masked_ce_dice, logits, base_target, class_weights=[1.0, 2.0, 0.5]
    )

    # randomise logits where unlabeled: same loss, same gradient on labeled voxels, zero elsewhere
    other = torch.where(labeled.unsqueeze(1), logits, 50 * torch.randn(logits.shape, generator=g))
    loss1, grad1 = _loss_and_grad(masked_ce_dice, other, base_target, class_weights=[1.0, 2.0, 0.5])
    assert torch.equal(loss0, loss1)
    m = labeled.unsqueeze(1).expand_as(grad0)
    assert torch.equal(grad0[m], grad1[m])
    assert torch.all(grad1[~m] == 0)

    # an explicit mask: random targets in unlabeled voxels change nothing either
    noisy = torch.where(labeled, target, torch.randint(0, 3, target.shape, generator=g))
    loss2, grad2 = _loss_and_grad(
        masked_ce_dice, logits, noisy, mask=labeled, class_weights=[1.0, 2.0, 0.5]
    )
    assert torch.equal(loss0, loss2)
    assert torch.equal(grad0, grad2)


def test_bce_dice_ignores_unlabeled_voxels():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 1, 8, 9, generator=g)
    target = torch.randint(0, 2, (3, 8, 9), generator=g)
    labeled = torch.rand(3, 8, 9, generator=g) < 0.5
    t = torch.where(labeled, target, torch.full_like(target, -1))
    loss0, grad0 = _loss_and_grad(masked_bce_dice, logits, t, pos_weight=3.0)
    other = torch.where(labeled.unsqueeze(1), logits, torch.randn(logits.shape, generator=g) * 9)
    loss1, grad1 = _loss_and_grad(masked_bce_dice, other, t, pos_weight=3.0)
    assert torch.equal(loss0, loss1)
    m = labeled.unsqueeze(1)
    assert torch.equal(grad0[m], grad1[m])
    assert torch.all(grad1[~m] == 0)


def test_bce_term_matches_torch_and_dice_is_exact():
    logits = torch.tensor([[[2.0, -1.0, 0.5, 3.0]]])  # (1, 1, 4)
    target = torch.tensor([[1, 0, -1, 1]])
    bce_only = masked_bce_dice(logits, target, dice_weight=0.0)
    keep = target >= 0
    ref = F.binary_cross_entropy_with_logits(logits[:, 0][keep], target[keep].float())
    assert torch.allclose(bce_only, ref)
    # positive weight multiplies the positive terms, mean over labeled voxels
    pw = masked_bce_dice(logits, target, dice_weight=0.0, pos_weight=4.0)
    ref_pw = F.binary_cross_entropy_with_logits(
        logits[:, 0][keep], target[keep].float(), pos_weight=torch.tensor(4.0)
    )
    assert torch.allclose(pw, ref_pw)
    # dice of the positive class over labeled voxels, smooth=0
    p = torch.sigmoid(logits[0, 0])[keep[0]]
    g = target[0][keep[0]].float()
    dice = 2 * (p * g).sum() / (p.sum() + g.sum())
    total = masked_bce_dice(logits, target, bce_weight=0.0, smooth=0.0)
    assert torch.allclose(total, 1 - dice)


def test_class_weights_change_the_loss_as_expected():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(1, 3, 5, 5, generator=g)
    target = torch.randint(0, 3, (1, 5, 5), generator=g)
    target[0, 0, :3] = torch.tensor([0, 1, 2])  # every class present
    plain = masked_ce_dice(logits, target, dice_weight=0.0)
    assert torch.allclose(plain, F.cross_entropy(logits, target))
    # a zero weight removes a class from the loss; the rest is a weighted mean
    only01 = masked_ce_dice(logits, target, dice_weight=0.0, class_weights=[1.0, 1.0, 0.0])
    keep = target != 2
    ref = F.cross_entropy(logits.permute(0, 2, 3, 1)[keep], target[keep])
    assert torch.allclose(only01, ref)
    w = torch.tensor([1.0, 3.0, 0.5])
    weighted = masked_ce_dice(logits, target, dice_weight=0.0, class_weights=w)
    per = F.cross_entropy(logits, target, reduction="none")
    assert torch.allclose(weighted, (per * w[target]).sum() / w[target].sum())
    # binary: (negative, positive) voxel weights give a weighted mean of the BCE terms
    bl = logits[:, :1]
    bt = (target > 0).long()
    bw = masked_bce_dice(bl, bt, dice_weight=0.0, class_weights=(1.0, 0.0))
    neg = bt[0] == 0
    ref_b = F.binary_cross_entropy_with_logits(bl[0, 0][neg], torch.zeros(int(neg.sum())))
    assert torch.allclose(bw, ref_b)


def test_nothing_labeled_gives_zero_loss_with_zero_gradient():
    x = torch.randn(1, 2, 4, 4, requires_grad=True)
    loss = masked_ce_dice(x, torch.full((1, 4, 4), -1))
    loss.backward()
    assert loss.item() == 0.0 and torch.all(x.grad == 0)


def test_dice_schedule_and_deep_supervision():
    assert dice_schedule(0, 4) == 0.0
    assert dice_schedule(2, 4) == 0.5
    assert dice_schedule(9, 4) == 1.0
    assert dice_schedule(0, 0, 0.7) == 0.7
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 3, 6, 6, generator=g)
    aux = [torch.randn(2, 3, 6, 6, generator=g), torch.randn(2, 3, 3, 3, generator=g)]
    target = torch.randint(-1, 3, (2, 6, 6), generator=g)
    fn = SegmentationLoss(False, aux_weight=0.4)
    main = fn.single(logits, target)
    up = F.interpolate(aux[1], size=(6, 6), mode="bilinear", align_corners=False)
    expected = main + 0.2 * fn.single(aux[0], target) + 0.2 * fn.single(up, target)
    assert torch.allclose(fn(logits, target, aux), expected)
    # BCE-then-Dice: in epoch 0 of a ramp only the cross-entropy counts
    ramp = SegmentationLoss(False, dice_ramp_epochs=3)
    assert torch.allclose(
        ramp(logits, target, epoch=0), masked_ce_dice(logits, target, dice_weight=0.0)
    )


@pytest.mark.parametrize("fn", [lovasz_hinge, lovasz_softmax])
def test_lovasz_ignores_unlabeled_voxels(fn):
    g = torch.Generator().manual_seed(5)
    k = 1 if fn is lovasz_hinge else 3
    logits = torch.randn(2, k, 7, 9, generator=g)
    target = torch.randint(0, max(k, 2), (2, 7, 9), generator=g)
    labeled = torch.rand(2, 7, 9, generator=g) < 0.5
    t = torch.where(labeled, target, torch.full_like(target, -1))
    loss0, grad0 = _loss_and_grad(fn, logits, t)
    other = torch.where(labeled.unsqueeze(1), logits, 30 * torch.randn(logits.shape, generator=g))
    loss1, grad1 = _loss_and_grad(fn, other, t)
    assert torch.allclose(loss0, loss1)
    m = labeled.unsqueeze(1).expand_as(grad0)
    assert torch.allclose(grad0[m], grad1[m])
    assert torch.all(grad1[~m] == 0)
    assert loss0 > 0


def test_lovasz_softmax_of_hard_predictions_is_one_minus_iou():
    """At one-hot probabilities the Lovasz extension equals the Jaccard loss itself."""
    g = torch.Generator().manual_seed(6)
    pred = torch.randint(0, 3, (2, 10, 10), generator=g)
    target = torch.randint(0, 3, (2, 10, 10), generator=g)
    logits = 100.0 * F.one_hot(pred, 3).movedim(-1, 1).float()
    ious = [((pred == c) & (target == c)).sum() / ((pred == c) | (target == c)).sum()
            for c in range(3)]
    expected = 1.0 - torch.stack(ious).float().mean()
    assert torch.allclose(lovasz_softmax(logits, target), expected, atol=1e-5)


def test_lovasz_hinge_is_zero_for_confident_right_answers_and_grows_with_errors():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[:, :, :4] = 1
    right = torch.where(target.bool(), 3.0, -3.0).unsqueeze(1)
    assert lovasz_hinge(right, target).item() == 0.0
    wrong_once = right.clone()
    wrong_once[0, 0, 0, 0] = -3.0
    wrong_more = wrong_once.clone()
    wrong_more[0, 0, 1:4, 0] = -3.0
    assert 0 < lovasz_hinge(wrong_once, target) < lovasz_hinge(wrong_more, target)


def test_region_terms_of_the_loss_names():
    assert [region_term(n) for n in ("auto", "ce_dice", "bce_dice", "ce_lovasz", "bce_lovasz",
                                     "ce", "bce")] == ["dice"] * 3 + ["lovasz"] * 2 + ["none"] * 2
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(2, 3, 6, 6, generator=g)
    target = torch.randint(-1, 3, (2, 6, 6), generator=g)
    plain = SegmentationLoss(False, region="none")
    assert torch.allclose(plain.single(logits, target),
                          masked_ce_dice(logits, target, dice_weight=0.0))
    lov = SegmentationLoss(False, region="lovasz", dice_weight=0.5)
    assert torch.allclose(lov.single(logits, target),
                          masked_ce_dice(logits, target, dice_weight=0.0)
                          + 0.5 * lovasz_softmax(logits, target))
    with pytest.raises(ValueError, match="region"):
        SegmentationLoss(True, region="focal")
