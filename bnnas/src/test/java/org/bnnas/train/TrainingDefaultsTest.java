// TrainingDefaultsTest: the training defaults the README's "Defaults" table documents, for the
// BN-NAS and SPOS supernets and the retraining; changing one must fail here first.
package org.bnnas.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TrainingDefaultsTest {
    @Test
    void bnNasSupernetTrainsTwoEpochsAtLr8WithoutWeightDecay() {
        SupernetTrainer.Config c = SupernetTrainer.Config.defaults(SupernetTrainer.Mode.BN, SupernetTrainer.Config.defaultEpochs(SupernetTrainer.Mode.BN),
                SupernetTrainer.Config.DEFAULT_BATCH, 0);
        assertEquals(new SupernetTrainer.Config(SupernetTrainer.Mode.BN, 2, 128, 8.0, 0.9, 0.0, 0.1f, 5f, 5e-4, 0,
                SupernetTrainer.BnScope.LAST), c);
    }

    @Test
    void sposSupernetTrainsTwentyEpochsAtThePapersScaledLr() {
        SupernetTrainer.Config c = SupernetTrainer.Config.defaults(SupernetTrainer.Mode.FULL, SupernetTrainer.Config.defaultEpochs(SupernetTrainer.Mode.FULL),
                SupernetTrainer.Config.DEFAULT_BATCH, 0);
        assertEquals(new SupernetTrainer.Config(SupernetTrainer.Mode.FULL, 20, 128, 0.0625, 0.9, 4e-5, 0.1f, 5f, 5e-4, 0,
                SupernetTrainer.BnScope.LAST), c);
    }

    @Test
    void retrainingTrainsSixteenEpochsCosineAtLr01() {
        Retrainer.Config c = Retrainer.Config.defaults(Retrainer.Config.DEFAULT_EPOCHS, Retrainer.Config.DEFAULT_BATCH, 0);
        assertEquals(new Retrainer.Config(16, 128, 0.1, 0.9, 4e-5, 0.1f, Retrainer.Schedule.COSINE, 0), c);
    }
}
