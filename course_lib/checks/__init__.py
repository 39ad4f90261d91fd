"""Self-checks for the exercises: hidden cases against the library's reference implementations.

Each ``check_xxx(student_code)`` prints one line starting with ✓ when the student's code agrees
with the reference, and otherwise raises :class:`CheckFailed` with a hint that says *what* is
wrong (a shape, a sign, a reduction, a missing step) but never shows the answer. The shared
machinery is in ``_framework``; each lecture's checks sit in the module named like its library
module. Import them from here: ``from course_lib.checks import check_reconstruction_loss``.
"""

from course_lib.checks._framework import CheckFailed
from course_lib.checks.autoencoders import check_linear_autoencoder, check_reconstruction_loss, check_train_step
from course_lib.checks.denoising_stacked import (
    check_masking_noise, check_modality_dropout, check_pretrain_stage, check_salt_and_pepper,
)
from course_lib.checks.vae import (
    check_attribute_regularization, check_cvae_condition, check_kl_divergence, check_negative_elbo, check_reparametrize,
)
from course_lib.checks.gan import check_discriminator_loss, check_gan_step, check_generator_loss, check_mode_coverage
from course_lib.checks.conditional_gan import check_conditional_discriminator_loss
from course_lib.checks.cyclegan import (
    check_cycle_consistency_loss, check_cyclegan_generator_step, check_identity_loss, check_lsgan_losses,
)
from course_lib.checks.flows import check_change_of_variables, check_coupling_inverse, check_made_masks, check_toy_map
from course_lib.checks.diffusion import (
    check_ddim_step, check_ddpm_step, check_epsilon_loss, check_forward_noising, check_guidance,
)

__all__ = [
    "CheckFailed",
    "check_reconstruction_loss",
    "check_linear_autoencoder",
    "check_train_step",
    "check_masking_noise",
    "check_salt_and_pepper",
    "check_pretrain_stage",
    "check_modality_dropout",
    "check_reparametrize",
    "check_kl_divergence",
    "check_negative_elbo",
    "check_cvae_condition",
    "check_attribute_regularization",
    "check_discriminator_loss",
    "check_generator_loss",
    "check_gan_step",
    "check_mode_coverage",
    "check_conditional_discriminator_loss",
    "check_cycle_consistency_loss",
    "check_lsgan_losses",
    "check_identity_loss",
    "check_cyclegan_generator_step",
    "check_toy_map",
    "check_change_of_variables",
    "check_coupling_inverse",
    "check_made_masks",
    "check_forward_noising",
    "check_epsilon_loss",
    "check_ddpm_step",
    "check_ddim_step",
    "check_guidance",
]
