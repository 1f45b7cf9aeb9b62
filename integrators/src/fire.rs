//! FIRE, the fast inertial relaxation engine (Bitzek, Koskinen, Gähler, Moseler & Gumbsch,
//! Phys. Rev. Lett. 97, 170201 (2006)), step for step as ASE's `ase.optimize.FIRE`.

use nalgebra::Vector3;

/// FIRE on the atoms' positions, with ASE's parameters and its mass-free dynamics (forces in
/// eV/Å act as accelerations; `dt` in ASE's units, so that mlmd and ASE take the same steps):
///
/// ```text
/// P = F·v;  P > 0: v ← (1 − α) v + α |v| F/|F|, and after N_min such steps dt ← min(f_inc dt,
///                  dt_max), α ← f_α α;
///           else: v ← 0, α ← α_start, dt ← f_dec dt;
/// v ← v + dt F;  Δx = dt v, scaled down to a norm of at most `maxstep` (Å) over all atoms.
/// ```
///
/// dt = 0.1, dt_max = 1.0, N_min = 5, f_inc = 1.1, f_dec = 0.5, α_start = 0.1, f_α = 0.99.
#[derive(Debug, Clone)]
pub struct Fire {
    maxstep: f64,
    dt: f64,
    alpha: f64,
    positive_steps: usize,
    velocities: Option<Vec<Vector3<f64>>>,
}

const DT_MAX: f64 = 1.0;
const N_MIN: usize = 5;
const F_INC: f64 = 1.1;
const F_DEC: f64 = 0.5;
const ALPHA_START: f64 = 0.1;
const F_ALPHA: f64 = 0.99;

impl Fire {
    /// FIRE moving the system by at most `maxstep` (Å; ASE's default is 0.2) per step.
    pub fn new(maxstep: f64) -> Self {
        Self {
            maxstep,
            dt: 0.1,
            alpha: ALPHA_START,
            positive_steps: 0,
            velocities: None,
        }
    }

    /// Moves `positions` one FIRE step along `forces` (eV/Å) evaluated at them.
    pub fn step(&mut self, positions: &mut [Vector3<f64>], forces: &[Vector3<f64>]) {
        let dot = |a: &[Vector3<f64>], b: &[Vector3<f64>]| -> f64 {
            a.iter().zip(b).map(|(x, y)| x.dot(y)).sum()
        };
        let velocities = match self.velocities.as_mut() {
            None => self.velocities.insert(vec![Vector3::zeros(); forces.len()]),
            Some(v) => {
                if dot(forces, v) > 0.0 {
                    let mix = dot(v, v).sqrt() / dot(forces, forces).sqrt();
                    for (v, f) in v.iter_mut().zip(forces) {
                        *v = (1.0 - self.alpha) * *v + self.alpha * mix * f;
                    }
                    if self.positive_steps > N_MIN {
                        self.dt = (self.dt * F_INC).min(DT_MAX);
                        self.alpha *= F_ALPHA;
                    }
                    self.positive_steps += 1;
                } else {
                    v.fill(Vector3::zeros());
                    self.alpha = ALPHA_START;
                    self.dt *= F_DEC;
                    self.positive_steps = 0;
                }
                v
            }
        };
        for (v, f) in velocities.iter_mut().zip(forces) {
            *v += self.dt * f;
        }
        let norm = self.dt * dot(velocities, velocities).sqrt();
        let scale = if norm > self.maxstep {
            self.maxstep / norm
        } else {
            1.0
        };
        for (x, v) in positions.iter_mut().zip(velocities.iter()) {
            *x += self.dt * *v * scale;
        }
    }
}

/// The largest force on any atom, |F_i| maximised over i (eV/Å): FIRE has converged when it is
/// below `fmax`, as in ASE.
pub fn max_force(forces: &[Vector3<f64>]) -> f64 {
    forces.iter().map(|f| f.norm()).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An anisotropic quadratic bowl with its minimum at (1, −2, 0.5): FIRE gets there.
    #[test]
    fn relaxes_a_quadratic_bowl_to_its_minimum() {
        let minimum = Vector3::new(1.0, -2.0, 0.5);
        let stiffness = Vector3::new(1.0, 5.0, 20.0);
        let force = |x: &Vector3<f64>| -(x - minimum).component_mul(&stiffness);
        let mut positions = vec![Vector3::new(3.0, 0.0, -1.0)];
        let mut fire = Fire::new(0.2);
        let mut steps = 0;
        while max_force(&[force(&positions[0])]) > 1e-8 {
            let forces = [force(&positions[0])];
            fire.step(&mut positions, &forces);
            steps += 1;
            assert!(steps < 2000, "not converged");
        }
        assert!((positions[0] - minimum).norm() < 1e-8);
    }
}
